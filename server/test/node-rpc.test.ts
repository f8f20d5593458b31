import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { startNodeHarness, type NodeHarness } from './support/node-harness.js';
import { kubeletPublishRequest } from '../src/demo/csi-client.js';

let h: NodeHarness;
beforeAll(async () => {
  h = await startNodeHarness();
});
afterAll(async () => {
  await h.stop();
});

async function code(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: status.OK, details: '' };
  } catch (e) {
    return { code: (e as { code: number }).code, details: (e as { details: string }).details };
  }
}

const pod = {
  name: 'web-0',
  namespace: 'default',
  uid: '11111111-2222-4333-8444-555555555555',
  serviceAccount: 'web',
};
const base = {
  volumeId: 'csi-abc',
  targetPath: '/var/lib/kubelet/pods/x/volumes/kubernetes.io~csi/tls/mount',
  pod,
};
const req = (over: Record<string, unknown> = {}) => ({
  ...(kubeletPublishRequest(base) as Record<string, unknown>),
  ...over,
});
const ctx = (over: Record<string, string | undefined>) => {
  const c = { ...(req().volume_context as Record<string, string>), ...over };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
};

describe('Identity', () => {
  it.each([
    {
      method: 'GetPluginInfo',
      check: (r: Record<string, unknown>) => expect(r.name).toBe('csi.k8s.cert-driver'),
    },
    {
      method: 'GetPluginCapabilities',
      check: (r: Record<string, unknown>) => expect(r.capabilities).toEqual([]),
    },
    { method: 'Probe', check: (r: Record<string, unknown>) => expect(r.ready).toEqual({ value: true }) },
  ])('$method answers OK', async ({ method, check }) => {
    check(await h.client.call('Identity', method, {}));
  });
});

interface RpcCase {
  name: string;
  method: string;
  req: object;
  want: status;
  /** Named in the error details. */
  field?: string;
}

describe('Node RPC status codes', () => {
  it.each<RpcCase>([
    // A node-only ephemeral driver implements none of these.
    ...['NodeStageVolume', 'NodeUnstageVolume', 'NodeGetVolumeStats', 'NodeExpandVolume'].map((method) => ({
      name: method,
      method,
      req: { volume_id: 'v' },
      want: status.UNIMPLEMENTED,
    })),
    { name: 'NodeGetInfo', method: 'NodeGetInfo', req: {}, want: status.OK },
    { name: 'NodeGetCapabilities', method: 'NodeGetCapabilities', req: {}, want: status.OK },
    {
      name: 'publish without volume_id',
      method: 'NodePublishVolume',
      req: req({ volume_id: '' }),
      want: status.INVALID_ARGUMENT,
      field: 'volume_id',
    },
    {
      name: 'publish without target_path',
      method: 'NodePublishVolume',
      req: req({ target_path: '' }),
      want: status.INVALID_ARGUMENT,
      field: 'target_path',
    },
    {
      name: 'publish without capability',
      method: 'NodePublishVolume',
      req: req({ volume_capability: null }),
      want: status.INVALID_ARGUMENT,
      field: 'volume_capability',
    },
    {
      name: 'publish read-write',
      method: 'NodePublishVolume',
      req: req({ readonly: false }),
      want: status.INVALID_ARGUMENT,
      field: 'readonly',
    },
    {
      name: 'publish of a non-ephemeral volume',
      method: 'NodePublishVolume',
      req: req({ volume_context: ctx({ 'csi.storage.k8s.io/ephemeral': undefined }) }),
      want: status.INVALID_ARGUMENT,
      field: 'csi.storage.k8s.io/ephemeral',
    },
    {
      name: 'publish without pod name',
      method: 'NodePublishVolume',
      req: req({ volume_context: ctx({ 'csi.storage.k8s.io/pod.name': undefined }) }),
      want: status.INVALID_ARGUMENT,
      field: 'csi.storage.k8s.io/pod.name',
    },
    {
      name: 'publish with an unknown attribute',
      method: 'NodePublishVolume',
      req: req({ volume_context: ctx({ 'csi.k8s.cert-driver/dns-name': 'a' }) }),
      want: status.INVALID_ARGUMENT,
      field: 'csi.k8s.cert-driver/dns-name',
    },
    {
      name: 'publish with a bad duration',
      method: 'NodePublishVolume',
      req: req({ volume_context: ctx({ 'csi.k8s.cert-driver/duration': '7d' }) }),
      want: status.INVALID_ARGUMENT,
      field: 'csi.k8s.cert-driver/duration',
    },
    {
      name: 'publish with a traversing file name',
      method: 'NodePublishVolume',
      req: req({ volume_context: ctx({ 'csi.k8s.cert-driver/certificate-file': '../x' }) }),
      want: status.INVALID_ARGUMENT,
      field: 'csi.k8s.cert-driver/certificate-file',
    },
    {
      name: 'publish to a relative target',
      method: 'NodePublishVolume',
      req: req({ target_path: 'relative/mount' }),
      want: status.INVALID_ARGUMENT,
      field: 'target_path',
    },
    {
      name: 'publish to a traversing target',
      method: 'NodePublishVolume',
      req: req({ target_path: '/var/lib/../../etc' }),
      want: status.INVALID_ARGUMENT,
      field: 'target_path',
    },
    {
      name: 'unpublish without volume_id',
      method: 'NodeUnpublishVolume',
      req: { target_path: '/x' },
      want: status.INVALID_ARGUMENT,
      field: 'volume_id',
    },
    {
      name: 'unpublish of an unknown volume',
      method: 'NodeUnpublishVolume',
      req: { volume_id: 'csi-unknown', target_path: '/var/lib/kubelet/x' },
      want: status.OK,
    },
  ])('$name → $want', async ({ method, req: r, want, field }) => {
    const got = await code(h.client.call('Node', method, r));
    expect(got.code).toBe(want);
    if (field) expect(got.details).toContain(field);
  });

  it('a rejected publish leaves no volume and no state behind', async () => {
    await code(
      h.client.call(
        'Node',
        'NodePublishVolume',
        req({
          volume_id: 'csi-rejected',
          volume_context: ctx({ 'csi.k8s.cert-driver/ip-sans': '300.1.1.1' }),
        }),
      ),
    );
    expect(h.platform.volumes.has('csi-rejected')).toBe(false);
    expect(await readdir(join(h.dir, 'state')).catch(() => [])).not.toContain('csi-rejected.json');
  });

  it('advertises VOLUME_MOUNT_GROUP and the node id', async () => {
    expect(await h.client.call('Node', 'NodeGetCapabilities', {})).toEqual({
      capabilities: [{ rpc: { type: 'VOLUME_MOUNT_GROUP' }, type: 'rpc' }],
    });
    expect(await h.client.call('Node', 'NodeGetInfo', {})).toMatchObject({ node_id: 'unit-node' });
  });
});

describe('publish semantics', () => {
  it('is idempotent and refuses the same volume with other attributes', async () => {
    await h.publish({ volumeId: 'csi-idem', targetPath: '/t/idem', pod });
    const serial = (await h.node.manager['d'].store.get('csi-idem'))?.certificate?.serialHex;
    await h.publish({ volumeId: 'csi-idem', targetPath: '/t/idem', pod });
    expect((await h.node.manager['d'].store.get('csi-idem'))?.certificate?.serialHex).toBe(serial);
    expect(h.issuer.requests.filter((r) => r.volumeId === 'csi-idem')).toHaveLength(1);
    const other = await code(
      h.publish({
        volumeId: 'csi-idem',
        targetPath: '/t/idem',
        pod,
        attributes: { 'csi.k8s.cert-driver/duration': '1h' },
      }),
    );
    expect(other.code).toBe(status.ALREADY_EXISTS);
    const elsewhere = await code(h.publish({ volumeId: 'csi-idem', targetPath: '/t/elsewhere', pod }));
    expect(elsewhere.code).toBe(status.ALREADY_EXISTS);
  });

  it('answers UNAVAILABLE while the issuer is down and leaves nothing behind', async () => {
    h.issuer.down = true;
    const got = await code(h.publish({ volumeId: 'csi-down', targetPath: '/t/down' }));
    h.issuer.down = false;
    expect(got.code).toBe(status.UNAVAILABLE);
    expect(h.platform.volumes.has('csi-down')).toBe(false);
    expect(await h.node.manager['d'].store.get('csi-down')).toBeUndefined();
    expect((await code(h.publish({ volumeId: 'csi-down', targetPath: '/t/down' }))).code).toBe(status.OK);
  });

  it.each([
    { op: 'createVolume' as const, kind: 'failed-precondition' as const, want: status.FAILED_PRECONDITION },
    { op: 'writeFiles' as const, kind: 'resource-exhausted' as const, want: status.RESOURCE_EXHAUSTED },
  ])('rolls back when $op fails ($kind → $want)', async ({ op, kind, want }) => {
    h.platform.failNext = { op, error: new PlatformError(kind, `${op} failed`) };
    const id = `csi-fail-${op}`;
    const got = await code(h.publish({ volumeId: id, targetPath: `/t/${id}` }));
    expect(got.code).toBe(want);
    expect(h.platform.volumes.has(id)).toBe(false);
    expect(await h.node.manager['d'].store.get(id)).toBeUndefined();
  });

  it('unpublish removes the volume and its state, twice is fine', async () => {
    await h.publish({ volumeId: 'csi-gone', targetPath: '/t/gone' });
    expect(h.platform.volumes.has('csi-gone')).toBe(true);
    for (let i = 0; i < 2; i++) {
      await h.client.call('Node', 'NodeUnpublishVolume', { volume_id: 'csi-gone', target_path: '/t/gone' });
    }
    expect(h.platform.volumes.has('csi-gone')).toBe(false);
    expect(await h.node.manager['d'].store.get('csi-gone')).toBeUndefined();
  });

  it('passes volume_mount_group as the file group', async () => {
    await h.publish({ volumeId: 'csi-group', targetPath: '/t/group', volumeMountGroup: '2000' });
    const v = h.platform.volumes.get('csi-group');
    expect(v?.fsGroup).toBe(2000);
    expect(v?.files.get('tls.key')?.mode).toBe(0o440);
  });
});
