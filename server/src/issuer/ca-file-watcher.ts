/**
 * Watches CA_CERT_FILE and CA_KEY_FILE (a mounted Secret, replaced atomically by kubelet) by polling
 * their content: a change that loads as a valid CA is handed to `onChange`; an invalid one (a
 * half-updated pair, a wrong key) is logged once and the CA in use is kept.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Logger } from '../common/logger.js';
import { CertificateAuthority } from './certificate-authority.js';

export interface CaFileWatchOptions {
  certFile: string;
  keyFile: string;
  intervalMs: number;
  logger: Logger;
  onChange: (ca: CertificateAuthority) => void;
}

export interface CaFileWatch {
  /** Checks the files now (also what the timer does). */
  check(): Promise<void>;
  stop(): void;
}

export async function watchCaFiles(o: CaFileWatchOptions): Promise<CaFileWatch> {
  const digest = async (): Promise<{ hash: string; certPem: string; keyPem: string } | undefined> => {
    try {
      const [certPem, keyPem] = await Promise.all([
        readFile(o.certFile, 'utf8'),
        readFile(o.keyFile, 'utf8'),
      ]);
      return {
        hash: createHash('sha256').update(certPem).update('\0').update(keyPem).digest('hex'),
        certPem,
        keyPem,
      };
    } catch {
      return undefined;
    }
  };
  let last = (await digest())?.hash;
  let lastRejected: string | undefined;
  let running: Promise<void> | undefined;

  const check = async (): Promise<void> => {
    const d = await digest();
    if (!d || d.hash === last || d.hash === lastRejected) return;
    try {
      const ca = await CertificateAuthority.load({ certPem: d.certPem, keyPem: d.keyPem });
      last = d.hash;
      lastRejected = undefined;
      o.onChange(ca);
    } catch (e) {
      lastRejected = d.hash;
      o.logger.error(
        { err: { message: (e as Error).message } },
        'CA files changed but do not load; keeping the CA in use',
      );
    }
  };
  const timer = setInterval(() => {
    running ??= check().finally(() => (running = undefined));
  }, o.intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
