/** The volume's file names, PKCS#12 output and file group ownership. */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import type { VolumeFileNames } from './certificate-spec.js';
import { ATTRIBUTE_PREFIX, type AttributeName } from './attribute-table.js';
import type { RawAttributes } from './collect.js';
import { checkFileName as checkPortableFileName, parseBool, parseGroupId } from './validators.js';

export const DEFAULT_CERTIFICATE_FILE = 'tls.crt';
export const DEFAULT_PRIVATE_KEY_FILE = 'tls.key';
export const DEFAULT_CA_FILE = 'ca.crt';
export const DEFAULT_PKCS12_FILE = 'keystore.p12';

/** The CSI field name used in errors about `volume_mount_group`. */
export const VOLUME_MOUNT_GROUP_FIELD = 'volume_mount_group';

/** Platform-specific file name rules; returns a reason when `name` is not allowed. */
export type FileNameCheck = (name: string) => string | undefined;

export interface FileOptions {
  files: VolumeFileNames;
  pkcs12Password?: string | undefined;
}

interface FileEntry {
  attribute: AttributeName;
  prop: keyof VolumeFileNames;
  fallback: string;
}

const FILES: readonly FileEntry[] = [
  { attribute: 'certificate-file', prop: 'certificate', fallback: DEFAULT_CERTIFICATE_FILE },
  { attribute: 'privatekey-file', prop: 'privateKey', fallback: DEFAULT_PRIVATE_KEY_FILE },
  { attribute: 'ca-file', prop: 'ca', fallback: DEFAULT_CA_FILE },
  { attribute: 'pkcs12-filename', prop: 'pkcs12', fallback: DEFAULT_PKCS12_FILE },
];

/**
 * Resolves file names with their defaults (`ca-file: ""` disables the CA file; the keystore only
 * exists with `pkcs12-enable: "true"`). Names must pass the portable rules and `checkFileName`, and
 * must differ from each other ignoring case (so a volume also works on case-insensitive Windows).
 */
export function parseFiles(raw: RawAttributes, checkFileName: FileNameCheck): FileOptions {
  const enableAttr = raw.get('pkcs12-enable');
  const pkcs12 = enableAttr !== undefined && parseBool(enableAttr.key, enableAttr.value);
  for (const name of ['pkcs12-filename', 'pkcs12-password'] as const) {
    const attr = raw.get(name);
    if (attr !== undefined && !pkcs12) {
      throw new InvalidArgumentError(
        attr.key,
        `is only allowed with ${ATTRIBUTE_PREFIX}pkcs12-enable: "true"`,
      );
    }
  }

  const files: VolumeFileNames = {
    certificate: DEFAULT_CERTIFICATE_FILE,
    privateKey: DEFAULT_PRIVATE_KEY_FILE,
  };
  const taken = new Map<string, string>();
  for (const { attribute, prop, fallback } of FILES) {
    if (prop === 'pkcs12' && !pkcs12) continue;
    const attr = raw.get(attribute);
    const key = attr?.key ?? `${ATTRIBUTE_PREFIX}${attribute}`;
    const name = attr?.value ?? fallback;
    if (prop === 'ca' && name === '') continue;
    const reason = checkPortableFileName(name) ?? checkFileName(name);
    if (reason !== undefined) throw new InvalidArgumentError(key, reason);
    const other = taken.get(name.toLowerCase());
    if (other !== undefined) {
      // Blame the attribute the user wrote (defaults never collide with each other).
      const [blamed, named] = attr === undefined ? [other, `${key} (default)`] : [key, other];
      throw new InvalidArgumentError(
        blamed,
        `file name ${quoteValue(name)} is also used by ${named}; choose different names`,
      );
    }
    taken.set(name.toLowerCase(), attr === undefined ? `${key} (default)` : key);
    files[prop] = name;
  }
  return { files, pkcs12Password: pkcs12 ? (raw.get('pkcs12-password')?.value ?? '') : undefined };
}

/** `fs-group` if set, else the CSI `volume_mount_group` if non-empty, else undefined. */
export function parseFsGroup(raw: RawAttributes, volumeMountGroup: string | undefined): number | undefined {
  const attr = raw.get('fs-group');
  if (attr !== undefined) return parseGroupId(attr.key, attr.value);
  if (volumeMountGroup === undefined || volumeMountGroup === '') return undefined;
  return parseGroupId(VOLUME_MOUNT_GROUP_FIELD, volumeMountGroup);
}
