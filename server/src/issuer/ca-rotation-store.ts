/**
 * Where a CA rotation survives an issuer restart: the certificates (never keys) of the signing CA, of
 * a CA waiting for its rotation delay, and of retired CAs with the time until which they stay in the
 * trust bundle. `FileRotationStore` keeps them as JSON in `CA_STATE_DIR/ca-rotation.json`, replaced
 * atomically (temporary file, fsync, rename).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { certificatePems } from '../pki/pem.js';

export const ROTATION_STATE_FILE = 'ca-rotation.json';

/** A CA as the record keeps it: public certificates only. */
export interface CaEntry {
  /** PEM of the signing CA certificate: identifies the CA, gives its notAfter. */
  certificate: string;
  /** PEM of what pods trust for it (CertificateAuthority.caBundlePem: its root). */
  bundle: string;
}

export interface RotationRecord {
  version: 1;
  /** The CA signing when the record was written. */
  active: CaEntry;
  /** A CA in its rotation delay: trusted, not yet signing. */
  pending?: (CaEntry & { activateAt: string }) | undefined;
  /** CAs that stopped signing, each trusted until `until` (ISO time). */
  retired: (CaEntry & { until: string })[];
}

export interface RotationStore {
  /** The last record saved; undefined when none was (first start). Rejects on a corrupt record. */
  load(): Promise<RotationRecord | undefined>;
  save(record: RotationRecord): Promise<void>;
}

/** Validates a record read back; throws an Error naming the first bad field. */
export function parseRotationRecord(text: string): RotationRecord {
  const r = JSON.parse(text) as Partial<RotationRecord> | null;
  const pem = (s: unknown, what: string): string => {
    if (typeof s !== 'string' || certificatePems(s, what).length === 0)
      throw new Error(`${what}: no certificate`);
    return s;
  };
  const time = (s: unknown, what: string): string => {
    if (typeof s !== 'string' || Number.isNaN(Date.parse(s))) throw new Error(`${what}: not a time`);
    return s;
  };
  const entry = (e: Partial<CaEntry> | undefined, what: string): CaEntry => ({
    certificate: pem(e?.certificate, `${what}.certificate`),
    bundle: pem(e?.bundle, `${what}.bundle`),
  });
  if (!r || r.version !== 1) throw new Error('version: want 1');
  if (!Array.isArray(r.retired)) throw new Error('retired: not a list');
  return {
    version: 1,
    active: entry(r.active, 'active'),
    pending: r.pending
      ? { ...entry(r.pending, 'pending'), activateAt: time(r.pending.activateAt, 'pending.activateAt') }
      : undefined,
    retired: r.retired.map((x, i) => ({
      ...entry(x, `retired[${i}]`),
      until: time(x?.until, `retired[${i}].until`),
    })),
  };
}

export class FileRotationStore implements RotationStore {
  readonly path: string;

  constructor(private readonly dir: string) {
    this.path = join(dir, ROTATION_STATE_FILE);
  }

  async load(): Promise<RotationRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      return parseRotationRecord(text);
    } catch (e) {
      throw new Error(`${this.path}: ${(e as Error).message}`);
    }
  }

  async save(record: RotationRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o750 });
    const tmp = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, 'w', 0o640);
      try {
        await fh.writeFile(JSON.stringify(record, null, 1));
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
}
