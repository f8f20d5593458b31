import { readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openssl, withTempDir } from '../pki/testing/openssl.js';
import { loadCertificateAuthorityFromFiles } from './certificate-authority.js';
import { DEV_CA_COMMON_NAME, generateDevCa } from './dev-ca.js';
import { ConfigError } from './errors.js';

describe('generateDevCa', () => {
  it('creates a ten-year ECDSA P-256 CA with a private key file, then reuses it', async () => {
    await withTempDir(async (root) => {
      const dir = join(root, 'nested', 'ca');
      const first = await generateDevCa({ dir });
      expect(first).toEqual({ certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key'), created: true });
      expect((await stat(first.keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);

      const verify = await openssl('verify', '-CAfile', first.certFile, first.certFile);
      expect(verify.stdout).toContain(': OK');
      const text = (await openssl('x509', '-in', first.certFile, '-noout', '-text', '-startdate', '-enddate'))
        .stdout;
      expect(text).toContain(`Subject: O = csi-cert-driver, CN = ${DEV_CA_COMMON_NAME}`);
      expect(text).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
      expect(text).toMatch(/Certificate Sign, CRL Sign/);
      expect(text).toContain('NIST CURVE: P-256');
      const years = (s: string): number => new Date(/=(.*)/.exec(s)?.[1] ?? '').getUTCFullYear();
      const [start, end] = [/notBefore=.*/.exec(text)?.[0] ?? '', /notAfter=.*/.exec(text)?.[0] ?? ''];
      expect(years(end) - years(start)).toBe(10);
      expect((await openssl('pkey', '-in', first.keyFile, '-noout')).code).toBe(0);

      const ca = await loadCertificateAuthorityFromFiles(first.certFile, first.keyFile);
      expect(ca.keyShape).toEqual({ algorithm: 'ECDSA', size: 256 });

      const before = await readFile(first.certFile, 'utf8');
      const second = await generateDevCa({ dir });
      expect(second.created).toBe(false);
      expect(await readFile(second.certFile, 'utf8')).toBe(before);
    });
  });

  it('uses the given common name', async () => {
    await withTempDir(async (dir) => {
      const { certFile } = await generateDevCa({ dir, commonName: 'demo CA' });
      expect((await openssl('x509', '-in', certFile, '-noout', '-subject')).stdout).toContain('CN = demo CA');
    });
  });

  it('refuses to replace half of an existing pair', async () => {
    await withTempDir(async (dir) => {
      const { keyFile } = await generateDevCa({ dir });
      await unlink(keyFile);
      const err = await generateDevCa({ dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('ca.crt without ca.key');
    });
  });
});
