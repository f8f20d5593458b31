import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/common/logger.js';
import { startNodeRole, type NodeRole } from '../../src/roles/node.role.js';
import { FakePlatform } from '../../src/platform/fake-platform.js';
import { CsiClient, kubeletPublishRequest, type KubeletPublishInput } from '../../src/demo/csi-client.js';
import { InProcessIssuer } from './in-process-issuer.js';
import { inProcessNodeConfig } from './in-process-node.js';

export interface NodeHarness {
  node: NodeRole;
  client: CsiClient;
  platform: FakePlatform;
  issuer: InProcessIssuer;
  dir: string;
  /** Every log line written so far. */
  logs(): string;
  publish(i: Partial<KubeletPublishInput> & { attributes?: Record<string, string> }): Promise<unknown>;
  stop(): Promise<void>;
}

let counter = 0;

/**
 * Starts the real node role (NestJS gRPC on a temporary unix socket) over the FakePlatform and an
 * in-process issuer, and hands back a CSI client: the csi-lib `test/driver.Run` pattern.
 */
export async function startNodeHarness(): Promise<NodeHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'ccd-unit-'));
  const platform = new FakePlatform();
  const issuer = await InProcessIssuer.create();
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  const logger = createLogger({ level: 'debug', role: 'node', destination: stream });
  const cfg = inProcessNodeConfig(dir, { logLevel: 'debug', nodeId: 'unit-node' });
  const endpoint = cfg.csiEndpoint;
  const node = await startNodeRole(cfg, logger, { platform, issuer });
  const client = new CsiClient(endpoint, 10_000);
  return {
    node,
    client,
    platform,
    issuer,
    dir,
    logs: () => chunks.join(''),
    publish: (i) => {
      const n = ++counter;
      return client.call(
        'Node',
        'NodePublishVolume',
        kubeletPublishRequest({
          volumeId: i.volumeId ?? `csi-vol${n}`,
          targetPath: i.targetPath ?? `/var/lib/kubelet/pods/p${n}/volumes/kubernetes.io~csi/tls/mount`,
          pod: i.pod ?? {
            name: `pod-${n}`,
            namespace: 'default',
            uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
            serviceAccount: 'default',
          },
          attributes: i.attributes ?? {},
          readonly: i.readonly,
          volumeMountGroup: i.volumeMountGroup,
          ...(i.secrets ? { secrets: i.secrets } : {}),
        }),
      );
    },
    async stop() {
      client.close();
      await node.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
