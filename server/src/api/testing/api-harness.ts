import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../common/logger.js';
import { CsiClient, kubeletPublishRequest, type KubeletPublishInput } from '../../demo/csi-client.js';
import { FakePlatform } from '../../platform/fake-platform.js';
import { startNodeRole, type NodeRole, type NodeRoleOverrides } from '../../roles/node.role.js';
import { InProcessIssuer } from '../../../test/support/in-process-issuer.js';
import { inProcessNodeConfig } from '../../../test/support/in-process-node.js';

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

export interface ApiHarness {
  node: NodeRole;
  client: CsiClient;
  issuer: InProcessIssuer;
  platform: FakePlatform;
  url: string;
  /** Every response body read through `request`, for the secret scan. */
  bodies: string[];
  request(path: string, init?: RequestInit): Promise<HttpResult>;
  publish(i: Partial<KubeletPublishInput> & { n: number }): Promise<string>;
  unpublish(volumeId: string): Promise<void>;
  stop(): Promise<void>;
}

export const podOf = (n: number, namespace = 'default') => ({
  name: `pod-${n}`,
  namespace,
  uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  serviceAccount: 'sa',
});

export const targetOf = (n: number) => `/var/lib/kubelet/pods/p${n}/volumes/kubernetes.io~csi/tls/mount`;

/**
 * The real node role (gRPC on a temporary socket, HTTP API on a free loopback port) over the
 * FakePlatform and the in-process issuer: volumes are published through the CSI socket as kubelet
 * does, and read back through the REST API.
 */
export async function startApiHarness(
  o: Pick<NodeRoleOverrides, 'publishFailures'> & { corsOrigins?: string[] } = {},
): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'ccd-api-'));
  const platform = new FakePlatform();
  const issuer = await InProcessIssuer.create();
  const logger = createLogger({ level: 'warn', role: 'node', destination: new PassThrough().resume() });
  const cfg = inProcessNodeConfig(dir, {
    logLevel: 'warn',
    nodeId: 'api-node',
    apiListenAddr: '127.0.0.1:0',
    apiCorsOrigins: o.corsOrigins ?? [],
  });
  const endpoint = cfg.csiEndpoint;
  const node = await startNodeRole(cfg, logger, {
    platform,
    issuer,
    ...(o.publishFailures ? { publishFailures: o.publishFailures } : {}),
  });
  const client = new CsiClient(endpoint, 10_000);
  const url = node.api!.url;
  const bodies: string[] = [];
  return {
    node,
    client,
    issuer,
    platform,
    url,
    bodies,
    async request(path, init) {
      const res = await fetch(`${url}${path}`, init);
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
    },
    async publish(i) {
      const volumeId = i.volumeId ?? `csi-vol-${i.n}`;
      await client.call(
        'Node',
        'NodePublishVolume',
        kubeletPublishRequest({
          volumeId,
          targetPath: i.targetPath ?? targetOf(i.n),
          pod: i.pod ?? podOf(i.n),
          attributes: i.attributes ?? {},
        }),
      );
      return volumeId;
    },
    async unpublish(volumeId) {
      const s = await node.store.get(volumeId);
      await client.call('Node', 'NodeUnpublishVolume', {
        volume_id: volumeId,
        target_path: s?.targetPath ?? '',
      });
    },
    async stop() {
      client.close();
      await node.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
