export { WindowsPlatform, type WindowsPlatformOptions } from './windows-platform.js';
export {
  checkFileName,
  checkPublishTarget,
  checkSegment,
  checkTargetPath,
  MANIFEST_NAME,
  MAX_LONG_PATH_CHARS,
  MAX_PATH_CHARS,
  normalizeTargetPath,
  sameWindowsName,
} from './paths.js';
export { MAX_PIPE_NAME_CHARS, parsePipeName, pipeBindAddress } from './endpoint.js';
export { FileAcl, type AclStatus } from './acl.js';
