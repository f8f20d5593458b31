import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { CsiClient, kubeletPublishRequest } from './csi-client.js';

export interface DemoPod {
  namespace: string;
  name: string;
  serviceAccount: string;
  /** Volume attributes as they would appear in the pod spec. */
  attributes: Record<string, string>;
  note: string;
}

export interface PublishedPod {
  pod: DemoPod;
  uid: string;
  volumeId: string;
  targetPath: string;
  /** Last publish error, when kubelet is retrying. */
  error?: string | undefined;
}

const uidOf = (p: DemoPod) => {
  const h = createHash('sha256').update(`${p.namespace}/${p.name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/**
 * Plays kubelet for the demo: for each pod, NodePublishVolume over the real CSI socket with the
 * volume context kubelet sends for an inline ephemeral volume, retrying failures like kubelet does,
 * and NodeUnpublishVolume when stopped ("pods deleted").
 */
export class SimulatedKubelet {
  readonly pods: PublishedPod[];
  private readonly client: CsiClient;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    endpoint: string,
    private readonly podsDir: string,
    pods: DemoPod[],
    private readonly logger: Logger,
  ) {
    this.client = new CsiClient(endpoint);
    this.pods = pods.map((pod) => {
      const uid = uidOf(pod);
      const volumeId = 'csi-' + createHash('sha256').update(`${uid}/tls`).digest('hex');
      return {
        pod,
        uid,
        volumeId,
        targetPath: join(podsDir, uid, 'volumes', 'kubernetes.io~csi', 'tls', 'mount'),
      };
    });
  }

  /** Publishes every pod once; failures are recorded and retried every `retryMs`. */
  async start(retryMs = 20_000): Promise<void> {
    await Promise.all(this.pods.map((p) => this.publish(p)));
    this.retry = setInterval(() => {
      for (const p of this.pods) if (p.error) void this.publish(p);
    }, retryMs);
    this.retry.unref();
  }

  private async publish(p: PublishedPod): Promise<void> {
    await mkdir(join(p.targetPath, '..'), { recursive: true, mode: 0o750 });
    try {
      await this.client.call(
        'Node',
        'NodePublishVolume',
        kubeletPublishRequest({
          volumeId: p.volumeId,
          targetPath: p.targetPath,
          pod: {
            name: p.pod.name,
            namespace: p.pod.namespace,
            uid: p.uid,
            serviceAccount: p.pod.serviceAccount,
          },
          attributes: p.pod.attributes,
        }),
      );
      p.error = undefined;
    } catch (e) {
      p.error = (e as { details?: string }).details ?? String(e);
      this.logger.warn(
        { pod: `${p.pod.namespace}/${p.pod.name}`, err: { message: p.error } },
        'kubelet: publish failed; will retry',
      );
    }
  }

  /** Unpublishes every pod's volume, as kubelet does when pods are deleted. */
  async stop(): Promise<void> {
    if (this.retry) clearInterval(this.retry);
    for (const p of this.pods) {
      await this.client
        .call('Node', 'NodeUnpublishVolume', { volume_id: p.volumeId, target_path: p.targetPath })
        .catch((e: unknown) =>
          this.logger.warn({ err: { message: String(e) } }, 'kubelet: unpublish failed'),
        );
    }
    this.client.close();
  }
}
