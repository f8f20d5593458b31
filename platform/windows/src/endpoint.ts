import { PlatformError } from '@csi-cert-driver/platform-contract';

/**
 * CSI endpoints on Windows are local named pipes. Node.js cannot listen on AF_UNIX on Windows
 * (nodejs/node#35008), so the driver serves grpc-js on a pipe and a sidecar proxies kubelet's
 * AF_UNIX socket to it. Accepted spellings of the same pipe `\\.\pipe\NAME`:
 *
 *   npipe://./pipe/NAME    npipe:////./pipe/NAME   (Docker / containerd style)
 *   \\.\pipe\NAME          //./pipe/NAME           (Win32 path)
 *   unix:\\.\pipe\NAME     unix:////./pipe/NAME    unix://./pipe/NAME (grpc-js style)
 *
 * The bind address returned is always `unix:\\.\pipe\NAME`, which grpc-js serves and dials both on
 * Windows and under Wine. `/` inside NAME becomes `\` (pipe names may contain backslashes).
 */

/** Longest pipe name Windows accepts after `\\.\pipe\` (256 characters in total). */
export const MAX_PIPE_NAME_CHARS = 256 - '\\\\.\\pipe\\'.length;

const SPELLINGS: readonly RegExp[] = [
  /^npipe:(?:\/\/|\/\/\/\/)\.\/pipe\/(.+)$/i,
  /^(?:unix:)?(?:\\\\|\/\/)\.[\\/]pipe[\\/](.+)$/i,
  /^unix:(?:\/\/\/\/|\/\/)\.\/pipe\/(.+)$/i,
];

/** The pipe name (`NAME` of `\\.\pipe\NAME`) in `endpoint`, or a PlatformError saying why there is none. */
export function parsePipeName(endpoint: string): string {
  const raw = typeof endpoint === 'string' ? endpoint.trim() : '';
  if (raw.length === 0) throw invalid(endpoint, 'the endpoint is empty');
  for (const spelling of SPELLINGS) {
    const match = spelling.exec(raw);
    if (match?.[1] !== undefined) return checkPipeName(raw, match[1].replace(/\//g, '\\'));
  }
  if (/^unix:\/\/?\/?[^/.]/i.test(raw)) {
    throw invalid(raw, 'unix domain sockets cannot be served by Node.js on Windows; use a named pipe');
  }
  if (/^(?:tcp|dns|ipv4|ipv6|https?):/i.test(raw)) {
    throw invalid(raw, 'TCP endpoints are not supported for CSI on Windows; use a named pipe');
  }
  if (/^(?:\\\\|\/\/)[^.?]/.test(raw)) {
    throw invalid(raw, 'remote pipes cannot be served; use a local pipe \\\\.\\pipe\\NAME');
  }
  throw invalid(raw, 'expected a named pipe such as npipe://./pipe/NAME or \\\\.\\pipe\\NAME');
}

/** The grpc-js bind address for a named-pipe endpoint in any accepted spelling. */
export function pipeBindAddress(endpoint: string): string {
  return `unix:\\\\.\\pipe\\${parsePipeName(endpoint)}`;
}

function checkPipeName(endpoint: string, name: string): string {
  if (name.length > MAX_PIPE_NAME_CHARS) {
    throw invalid(endpoint, `pipe name longer than ${MAX_PIPE_NAME_CHARS} characters`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(name)) throw invalid(endpoint, 'pipe name contains a control character');
  if (name.split('\\').some((part) => part.length === 0 || part === '.' || part === '..')) {
    throw invalid(endpoint, "pipe name has an empty, '.' or '..' component");
  }
  return name;
}

function invalid(endpoint: string, why: string): PlatformError {
  return new PlatformError('invalid-argument', `CSI endpoint '${String(endpoint)}': ${why}`);
}
