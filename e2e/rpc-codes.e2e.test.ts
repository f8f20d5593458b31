/**
 * Status codes of every CSI RPC over the real socket, table-driven: Identity and node info, the
 * unimplemented Node RPCs, every kind of bad request (each must leave nothing behind), idempotency,
 * conflicts, and what happens when the issuer is down or refuses.
 */
import { status } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CM_PREFIX,
  Harness,
  PREFIX,
  codeName,
  outcome,
  type Outcome,
  type Volume,
} from './support/harness.js';
import { mountsAt } from './support/host.js';
import { identityCases, unimplementedCases } from './support/rpc-table.js';
import { fingerprintOf } from './support/openssl.js';
import { expectGone, expectMountedOnce, expectValidPair } from './support/volume-checks.js';
import { waitFor } from './support/wait.js';

const a = (name: string): string => `${PREFIX}${name}`;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** A message that starts by naming `field` (the driver's "field: reason" form). */
const names = (field: string): RegExp => new RegExp(`^${escape(field)}: `);

type Json = Record<string, unknown>;

/** The node's per-call deadline towards the issuer (ISSUER_TIMEOUT), short so the stall test is quick. */
const ISSUER_TIMEOUT_S = 3;

describe('CSI status codes over the socket', () => {
  let h: Harness;
  const published: Volume[] = [];

  beforeAll(async () => {
    h = await Harness.start({ suite: 'rpc-codes', issuerTimeout: `${ISSUER_TIMEOUT_S}s` });
  });

  afterAll(async () => {
    if (!h) return;
    for (const vol of published) await h.unpublish(vol).catch(() => undefined);
    await h.close();
  });

  describe('Identity and node information', () => {
    it.each(identityCases('e2e-node-1'))('$method answers OK', async ({ service, method, check }) => {
      const res = await outcome(h.client.call<Json>(service, method, {}));
      expect(res.code, res.details).toBe(status.OK);
      check(res.res!);
    });

    it.each(unimplementedCases('/tmp/x', '/tmp/x'))(
      'Node.$method answers UNIMPLEMENTED',
      async ({ method, req }) => {
        const res = await outcome(h.client.call('Node', method, req));
        expect(codeName(res.code)).toBe('UNIMPLEMENTED');
      },
    );
  });

  describe('a bad NodePublishVolume is INVALID_ARGUMENT naming the field and leaves nothing behind', () => {
    /** Builds the request from a fresh volume; `mutate` breaks one thing. */
    interface BadCase {
      name: string;
      attributes?: Record<string, string>;
      mutate?: (req: Json, vol: Volume) => void;
      /** The field or attribute the message must start with. */
      field: string;
      /** More of the message, when the reason matters. */
      reason?: RegExp;
    }
    const ctx = (req: Json): Record<string, string> => req.volume_context as Record<string, string>;

    const CASES: BadCase[] = [
      { name: 'missing volume_id', mutate: (r) => (r.volume_id = ''), field: 'volume_id' },
      { name: 'volume_id with a slash', mutate: (r) => (r.volume_id = 'csi-a/../b'), field: 'volume_id' },
      { name: 'missing target_path', mutate: (r) => (r.target_path = ''), field: 'target_path' },
      {
        name: 'relative target_path',
        mutate: (r) => (r.target_path = 'relative/mount'),
        field: 'target_path',
        reason: /absolute/,
      },
      {
        name: 'target_path with ".."',
        mutate: (r, v) => (r.target_path = `${dirname(v.targetPath)}/../escape/mount`),
        field: 'target_path',
        reason: /\.\./,
      },
      {
        name: 'missing volume_capability',
        mutate: (r) => delete r.volume_capability,
        field: 'volume_capability',
      },
      {
        name: 'block volume_capability',
        mutate: (r) => (r.volume_capability = { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } }),
        field: 'volume_capability',
        reason: /block/,
      },
      { name: 'readonly=false', mutate: (r) => (r.readonly = false), field: 'readonly' },
      {
        name: 'not ephemeral (a PersistentVolume)',
        mutate: (r) => delete ctx(r)['csi.storage.k8s.io/ephemeral'],
        field: 'csi.storage.k8s.io/ephemeral',
      },
      {
        name: 'ephemeral=false',
        mutate: (r) => (ctx(r)['csi.storage.k8s.io/ephemeral'] = 'false'),
        field: 'csi.storage.k8s.io/ephemeral',
      },
      {
        name: 'missing pod name (podInfoOnMount off)',
        mutate: (r) => delete ctx(r)['csi.storage.k8s.io/pod.name'],
        field: 'csi.storage.k8s.io/pod.name',
      },
      {
        name: 'unknown attribute (typo dns-name)',
        attributes: { [a('dns-name')]: 'x.example.com' },
        field: a('dns-name'),
        reason: /dns-names/,
      },
      {
        name: 'unknown attribute under the cert-manager prefix',
        attributes: { [`${CM_PREFIX}durations`]: '1h' },
        field: `${CM_PREFIX}durations`,
      },
      { name: 'bad duration', attributes: { [a('duration')]: 'forever' }, field: a('duration') },
      { name: 'duration below 1m', attributes: { [a('duration')]: '30s' }, field: a('duration') },
      { name: 'bad IP', attributes: { [a('ip-sans')]: '10.0.0.300' }, field: a('ip-sans') },
      {
        name: 'file name with "/"',
        attributes: { [a('certificate-file')]: 'certs/tls.crt' },
        field: a('certificate-file'),
      },
      { name: 'file name ".."', attributes: { [a('privatekey-file')]: '..' }, field: a('privatekey-file') },
      {
        name: 'duplicate file names',
        attributes: { [a('certificate-file')]: 'tls.key' },
        field: a('certificate-file'),
        reason: /tls\.key/,
      },
      {
        name: 'renew-before equal to duration',
        attributes: { [a('duration')]: '1h', [a('renew-before')]: '1h' },
        field: a('renew-before'),
      },
      {
        name: 'renew-before longer than duration',
        attributes: { [a('duration')]: '1h', [a('renew-before')]: '2h' },
        field: a('renew-before'),
      },
      {
        name: 'ECDSA key size 512',
        attributes: { [a('key-algorithm')]: 'ECDSA', [a('key-size')]: '512' },
        field: a('key-size'),
      },
      {
        name: 'RSA key size 1024',
        attributes: { [a('key-algorithm')]: 'RSA', [a('key-size')]: '1024' },
        field: a('key-size'),
      },
      {
        name: 'PKCS1 for Ed25519',
        attributes: { [a('key-algorithm')]: 'Ed25519', [a('key-encoding')]: 'PKCS1' },
        field: a('key-encoding'),
      },
      {
        name: 'unknown key usage',
        attributes: { [a('key-usages')]: 'server auth,world domination' },
        field: a('key-usages'),
      },
      { name: 'non-boolean is-ca', attributes: { [a('is-ca')]: 'yes' }, field: a('is-ca') },
      { name: 'fs-group not a number', attributes: { [a('fs-group')]: 'wheel' }, field: a('fs-group') },
      {
        name: 'same attribute under both prefixes',
        attributes: { [a('duration')]: '1h', [`${CM_PREFIX}duration`]: '2h' },
        field: a('duration'),
      },
    ];

    it.each(CASES)('$name', async (c) => {
      const vol = h.newVolume();
      const req = h.publishRequest(vol, c.attributes ?? {}) as Json;
      c.mutate?.(req, vol);
      const before = h.snapshot();

      const res = await outcome(h.client.call('Node', 'NodePublishVolume', req));
      expect(codeName(res.code), res.details).toBe('INVALID_ARGUMENT');
      expect(res.details).toMatch(names(c.field));
      if (c.reason) expect(res.details).toMatch(c.reason);

      // Nothing behind: no mount, state file, data dir, target dir or stray path anywhere under the harness.
      expect(h.snapshot()).toEqual(before);
      expect(existsSync(vol.targetPath)).toBe(false);
      expect(h.stateFiles().filter((f) => f.startsWith(vol.volumeId))).toEqual([]);
    });

    it.each([
      { name: 'missing volume_id', req: { volume_id: '', target_path: '/tmp/x' }, field: 'volume_id' },
      { name: 'missing target_path', req: { volume_id: 'csi-x', target_path: '' }, field: 'target_path' },
    ])('NodeUnpublishVolume with $name is INVALID_ARGUMENT', async ({ req, field }) => {
      const res = await outcome(h.client.call('Node', 'NodeUnpublishVolume', req));
      expect(codeName(res.code)).toBe('INVALID_ARGUMENT');
      expect(res.details).toMatch(names(field));
    });
  });

  describe('idempotency and conflicts', () => {
    it('the same publish twice is OK, keeps the certificate and stacks no second mount', async () => {
      const vol = h.newVolume();
      published.push(vol);
      expect((await h.publish(vol)).code).toBe(status.OK);
      const first = await expectValidPair(h, vol);
      const fingerprint = await fingerprintOf(join(vol.targetPath, 'tls.crt'));

      const again = await h.publish(vol);
      expect(codeName(again.code), again.details).toBe('OK');
      expectMountedOnce(h, vol);
      expect((await expectValidPair(h, vol)).serial).toBe(first.serial);
      expect(await fingerprintOf(join(vol.targetPath, 'tls.crt'))).toBe(fingerprint);
      expect(h.readState(vol.volumeId).history.filter((e) => e.kind === 'issue')).toHaveLength(1);
    });

    it('the same volume id with different attributes is ALREADY_EXISTS and the volume stays intact', async () => {
      const vol = h.newVolume();
      published.push(vol);
      expect((await h.publish(vol, { [a('duration')]: '24h' })).code).toBe(status.OK);
      const { serial } = await expectValidPair(h, vol);

      const res = await h.publish(vol, { [a('duration')]: '48h' });
      expect(codeName(res.code), res.details).toBe('ALREADY_EXISTS');
      expect(res.details).toContain(vol.volumeId);
      expectMountedOnce(h, vol);
      expect((await expectValidPair(h, vol)).serial).toBe(serial);
    });

    it('the same volume id at another target path is ALREADY_EXISTS and creates nothing there', async () => {
      const vol = h.newVolume();
      published.push(vol);
      expect((await h.publish(vol)).code).toBe(status.OK);
      const elsewhere = { ...vol, targetPath: h.newVolume(vol.pod, 'other').targetPath };

      const res = await h.publish(elsewhere);
      expect(codeName(res.code), res.details).toBe('ALREADY_EXISTS');
      expect(existsSync(elsewhere.targetPath)).toBe(false);
      expectMountedOnce(h, vol);
    });

    it('concurrent publishes of one volume: each OK or ABORTED, one mount, then a retry is OK', async () => {
      const vol = h.newVolume();
      published.push(vol);
      const results = await Promise.all([h.publish(vol), h.publish(vol), h.publish(vol)]);
      const codes = results.map((r) => codeName(r.code));
      for (const c of codes) expect(['OK', 'ABORTED']).toContain(c);
      expect(codes).toContain('OK');
      expect((await h.publish(vol)).code).toBe(status.OK);
      expectMountedOnce(h, vol);
      await expectValidPair(h, vol);
    });

    it('unpublish of a volume the driver never saw is OK and creates nothing', async () => {
      const vol = h.newVolume();
      const before = h.snapshot();
      const res = await h.unpublish(vol);
      expect(codeName(res.code), res.details).toBe('OK');
      expect(h.snapshot()).toEqual(before);
    });

    it('unpublish twice is OK both times and leaves nothing', async () => {
      const vol = h.newVolume();
      expect((await h.publish(vol)).code).toBe(status.OK);
      expect(codeName((await h.unpublish(vol)).code)).toBe('OK');
      expectGone(h, vol);
      expect(codeName((await h.unpublish(vol)).code)).toBe('OK');
      expectGone(h, vol);
    });
  });

  describe('issuer failures', () => {
    it('issuer refuses is-ca: PERMISSION_DENIED, nothing left behind', async () => {
      const vol = h.newVolume();
      const before = h.snapshot();
      const res = await h.publish(vol, { [a('is-ca')]: 'true' });
      expect(codeName(res.code), res.details).toBe('PERMISSION_DENIED');
      expect(res.details).toMatch(/is_ca|CA/);
      expect(h.snapshot()).toEqual(before);
      expectGone(h, vol);
    });

    it('issuer stalled (SIGSTOP): UNAVAILABLE after ISSUER_TIMEOUT naming the address, nothing behind; resumed, OK', async () => {
      const vol = h.newVolume();
      const before = h.snapshot();
      h.issuer!.signal('SIGSTOP');
      let res: Outcome;
      const started = Date.now();
      try {
        res = await h.publish(vol);
      } finally {
        h.issuer!.signal('SIGCONT');
      }
      const tookMs = Date.now() - started;
      expect(codeName(res.code), res.details).toBe('UNAVAILABLE');
      expect(res.details).toContain(h.issuerAddr);
      expect(tookMs, 'the node waited for its issuer deadline').toBeGreaterThanOrEqual(
        ISSUER_TIMEOUT_S * 1000 - 100,
      );
      expect(h.snapshot()).toEqual(before);
      expectGone(h, vol);

      published.push(vol);
      const ok = await h.publish(vol);
      expect(codeName(ok.code), ok.details).toBe('OK');
      expectMountedOnce(h, vol);
      await expectValidPair(h, vol);
    });

    it('issuer down: UNAVAILABLE naming the issuer address, nothing behind; after a restart the retry succeeds', async () => {
      const vol = h.newVolume();
      await h.stopIssuer();
      try {
        const before = h.snapshot();
        const res = await h.publish(vol);
        expect(codeName(res.code), res.details).toBe('UNAVAILABLE');
        expect(res.details).toContain(h.issuerAddr);
        expect(h.snapshot()).toEqual(before);
        expectGone(h, vol);
      } finally {
        await h.startIssuer();
      }
      published.push(vol);
      // Kubelet retries UNAVAILABLE; so do we, until the node's channel has reconnected.
      const ok = await waitFor(
        'publish to succeed after the issuer restarted',
        async () => {
          const res = await h.publish(vol);
          if (res.code === status.UNAVAILABLE) return undefined;
          return res;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(codeName(ok.code), ok.details).toBe('OK');
      expectMountedOnce(h, vol);
      await expectValidPair(h, vol);
      expect(mountsAt(vol.targetPath)).toHaveLength(1);
    });
  });
});
