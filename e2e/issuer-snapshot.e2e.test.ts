/**
 * The issuer role from its startup snapshot (docs/adr/0026-node-role-from-a-startup-snapshot.md), as
 * `bin/csi-cert-driver issuer` starts it on Linux: the process runs `node --snapshot-blob
 * dist/issuer-snapshot.blob` (NestJS, grpc-js and the issuer's modules evaluated when the blob was
 * built; its settings and CA read at the start), serves the issuer's gRPC API and signs the node's
 * CSR into a certificate OpenSSL verifies against the CA. Then, on a private copy of the install,
 * the blob unusable: remade when dist/ is writable, else dist/main.mjs; CSI_CERT_DRIVER_SNAPSHOT=off
 * and a variable grpc-js reads as it loads also start dist/main.mjs. The issuer never fails to start
 * because of the snapshot.
 *
 * The issuer collects its garbage every 50 ms (a `--require` preload, which a start from a snapshot
 * runs): a function of the snapshot first compiled after a collection is where a blob built without
 * V8's code cache broke for the node (Node's FileHandle close, ADR 26); the issuer reads its CA
 * files with fs/promises after that.
 */
import { readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeName, harnessPerSuite, type Harness } from './support/harness.js';
import { opensslOk } from './support/openssl.js';
import { REPO_ROOT } from './support/repo.js';
import {
  describeUnusableBlob,
  expectVerifiedPair,
  gcOftenPreload,
  imageEnv,
  startedFrom,
} from './support/snapshot.js';

const gc = gcOftenPreload();

let h: Harness;
harnessPerSuite(
  {
    suite: 'issuer-snapshot',
    // The Dockerfile's ENV.
    issuerSettings: imageEnv(gc),
  },
  (started) => (h = started),
);

describe.runIf(process.platform === 'linux')('the issuer role from its startup snapshot', () => {
  it('runs from dist/issuer-snapshot.blob', () => {
    expect(startedFrom(h.issuer!.pid)).toBe(`snapshot ${join(REPO_ROOT, 'dist', 'issuer-snapshot.blob')}`);
    expect(gc.ranIn()).toContain(String(h.issuer!.pid));
  });

  it('signs the node’s CSR: a key pair OpenSSL verifies against the CA', async () => {
    const v = h.newVolume();
    const r = await h.publish(v);
    expect(codeName(r.code), r.details).toBe('OK');
    await expectVerifiedPair(v.targetPath);
    const issuer = await opensslOk(['x509', '-in', join(v.targetPath, 'tls.crt'), '-issuer', '-noout']);
    const ca = await opensslOk(['x509', '-in', h.caCert, '-subject', '-noout']);
    expect(issuer.replace(/^issuer=/, '')).toBe(ca.replace(/^subject=/, ''));
    expect(startedFrom(h.issuer!.pid)).toMatch(/^snapshot /);
  });
});

// The issuer's own case; the cases both roles share follow it (support/snapshot.ts).
describeUnusableBlob(
  'issuer',
  () => h,
  ({ blob, snapshot }) => [
    {
      name: 'truncated, dist/ writable: a new one is made and used',
      spoil: () => truncateSync(blob, 4096),
      readOnly: false,
      from: snapshot,
      then: () => expect(readFileSync(`${blob}.key`, 'utf8')).toMatch(/ blob [1-9]\d{6,}\n$/),
    },
  ],
);
