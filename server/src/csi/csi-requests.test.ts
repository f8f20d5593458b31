import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../common/errors.js';
import { toPublishRequest, toUnpublishRequest, type NodePublishVolumeRequestWire } from './csi-requests.js';

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
  ])('rejects $name', ({ req, field }) => {
    try {
      toPublishRequest(req as NodePublishVolumeRequestWire);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe(field);
    }
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
