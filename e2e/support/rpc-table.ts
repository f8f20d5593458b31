/**
 * The CSI answers every node gives whatever its platform: Identity and node information answered
 * OK, and the Node RPCs an ephemeral-only driver does not implement. Driven over the Linux socket
 * (e2e/rpc-codes.e2e.test.ts) and against the Windows node under Wine (e2e/windows/).
 */
import { expect } from 'vitest';

export const DRIVER_NAME = 'csi.k8s.cert-driver';

type Json = Record<string, unknown>;

export interface IdentityCase {
  service: 'Identity' | 'Node';
  method: string;
  check: (res: Json) => void | Promise<void>;
}

/** Identity and node information of the node `nodeId`: answered OK, checked by `check`. */
export function identityCases(nodeId: string): IdentityCase[] {
  return [
    {
      service: 'Identity',
      method: 'GetPluginInfo',
      check: (r) => {
        expect(r.name).toBe(DRIVER_NAME);
        expect(r.vendor_version).toMatch(/^\d+\.\d+\.\d+/);
      },
    },
    {
      service: 'Identity',
      method: 'GetPluginCapabilities',
      // A node-only plugin: advertising CONTROLLER_SERVICE would make csi-sanity call the controller.
      check: (r) => expect(JSON.stringify(r.capabilities)).not.toContain('CONTROLLER_SERVICE'),
    },
    { service: 'Identity', method: 'Probe', check: (r) => expect(r.ready).toEqual({ value: true }) },
    {
      service: 'Node',
      method: 'NodeGetInfo',
      check: (r) => {
        expect(r.node_id).toBe(nodeId);
        expect(Number(r.max_volumes_per_node)).toBeGreaterThanOrEqual(0);
      },
    },
    {
      service: 'Node',
      method: 'NodeGetCapabilities',
      check: (r) =>
        expect((r.capabilities as { rpc?: { type?: string } }[]).map((c) => c.rpc?.type)).toEqual([
          'VOLUME_MOUNT_GROUP',
        ]),
    },
  ];
}

/** Node RPCs a node-only ephemeral driver does not implement, with paths of the node's platform. */
export function unimplementedCases(stagingPath: string, volumePath: string): { method: string; req: Json }[] {
  return [
    { method: 'NodeStageVolume', req: { volume_id: 'v', staging_target_path: stagingPath } },
    { method: 'NodeUnstageVolume', req: { volume_id: 'v', staging_target_path: stagingPath } },
    { method: 'NodeGetVolumeStats', req: { volume_id: 'v', volume_path: volumePath } },
    { method: 'NodeExpandVolume', req: { volume_id: 'v', volume_path: volumePath } },
  ];
}
