import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_STATUS_MESSAGE } from '../common/errors.js';
import {
  REQUEST_LIMITS,
  toPublishRequest,
  toUnpublishRequest,
  type NodePublishVolumeRequestWire,
} from './csi-requests.js';

const good: NodePublishVolumeRequestWire = {
  volume_id: 'csi-0123abcd',
  target_path: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/tls/mount',
  volume_capability: { mount: { volume_mount_group: '2000' }, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
  readonly: true,
  volume_context: { a: 'b' },
};

describe('toPublishRequest', () => {
  it('accepts kubelet’s shape', () => {
    expect(toPublishRequest(good)).toEqual({
      volumeId: 'csi-0123abcd',
      targetPath: good.target_path,
      volumeContext: { a: 'b' },
      volumeMountGroup: '2000',
    });
  });

  it.each([
    { name: 'missing volume_id', req: { ...good, volume_id: '' }, field: 'volume_id' },
    { name: 'traversal in volume_id', req: { ...good, volume_id: '../etc' }, field: 'volume_id' },
    { name: 'slash in volume_id', req: { ...good, volume_id: 'a/b' }, field: 'volume_id' },
    { name: 'missing target_path', req: { ...good, target_path: '' }, field: 'target_path' },
    { name: 'missing capability', req: { ...good, volume_capability: null }, field: 'volume_capability' },
    {
      name: 'block capability',
      req: { ...good, volume_capability: { block: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } } },
      field: 'volume_capability',
    },
    {
      name: 'missing access mode',
      req: { ...good, volume_capability: { mount: {} } },
      field: 'volume_capability.access_mode',
    },
    { name: 'not readonly', req: { ...good, readonly: false }, field: 'readonly' },
    {
      name: 'a 300,000-character attribute value',
      req: { ...good, volume_context: { 'csi.k8s.cert-driver/dns-names': 'a'.repeat(300_000) } },
      field: 'csi.k8s.cert-driver/dns-names',
    },
    {
      name: 'too many context entries',
      req: {
        ...good,
        volume_context: Object.fromEntries(
          Array.from({ length: REQUEST_LIMITS.mapEntries + 1 }, (_, i) => [`k${i}`, 'v']),
        ),
      },
      field: 'volume_context',
    },
    {
      name: 'a huge context key',
      req: { ...good, volume_context: { ['k'.repeat(100_000)]: 'v' } },
      field: 'volume_context',
    },
    {
      name: 'a huge secret',
      req: { ...good, secrets: { 'csi.storage.k8s.io/serviceAccount.tokens': 's'.repeat(300_000) } },
      field: "secrets['csi.storage.k8s.io/serviceAccount.tokens']",
    },
    {
      name: 'a huge target_path',
      req: { ...good, target_path: '/' + 'p'.repeat(300_000) },
      field: 'target_path',
    },
  ])('rejects $name', ({ req, field }) => {
    try {
      toPublishRequest(req as NodePublishVolumeRequestWire);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe(field);
      expect((e as Error).message.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE);
      expect((e as Error).message).not.toContain('sssss');
    }
  });

  const TOKENS = 'csi.storage.k8s.io/serviceAccount.tokens';
  const map = (token: string) =>
    JSON.stringify({ aud: { token, expirationTimestamp: '2030-01-01T00:00:00Z' } });
  it.each<{
    name: string;
    secrets: Record<string, string> | undefined;
    ctx: Record<string, string>;
    want: Record<string, string> | undefined;
  }>([
    { name: 'the volume context', secrets: undefined, ctx: { [TOKENS]: map('ctx') }, want: { aud: 'ctx' } },
    { name: 'secrets', secrets: { [TOKENS]: map('sec') }, ctx: {}, want: { aud: 'sec' } },
    {
      name: 'secrets over the context',
      secrets: { [TOKENS]: map('sec') },
      ctx: { [TOKENS]: map('ctx') },
      want: { aud: 'sec' },
    },
    {
      name: 'a malformed map in secrets, else the context',
      secrets: { [TOKENS]: '{' },
      ctx: { [TOKENS]: map('ctx') },
      want: { aud: 'ctx' },
    },
    { name: 'neither', secrets: { other: 'x' }, ctx: {}, want: undefined },
  ])('reads the token map from $name', ({ secrets, ctx, want }) => {
    const req = { ...good, volume_context: ctx, ...(secrets ? { secrets } : {}) };
    expect(toPublishRequest(req).tokens).toEqual(want);
  });
});

describe('toUnpublishRequest', () => {
  it.each([
    { req: { volume_id: '', target_path: '/x' }, field: 'volume_id' },
    { req: { volume_id: 'v', target_path: '' }, field: 'target_path' },
  ])('rejects missing $field', ({ req, field }) => {
    expect(() => toUnpublishRequest(req)).toThrowError(new RegExp(`^${field}:`));
  });
});
