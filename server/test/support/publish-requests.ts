import { kubeletPublishRequest } from '../../src/demo/csi-client.js';
import type { PublishRequest } from '../../src/volumes/publish-request.js';

/**
 * Volume `vol-<n>` of pod `default/pod-<n>` as kubelet publishes it, in the shape
 * `VolumeManager.publish` takes (what the CSI service hands over), with `attributes` added.
 */
export function numberedPublishRequest(n: number, attributes: Record<string, string> = {}): PublishRequest {
  const r = kubeletPublishRequest({
    volumeId: `vol-${n}`,
    targetPath: `/var/lib/kubelet/pods/p${n}/volumes/kubernetes.io~csi/tls/mount`,
    pod: {
      name: `pod-${n}`,
      namespace: 'default',
      uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
      serviceAccount: 'default',
    },
    attributes,
  }) as { volume_id: string; target_path: string; volume_context: Record<string, string> };
  return {
    volumeId: r.volume_id,
    targetPath: r.target_path,
    volumeContext: r.volume_context,
    volumeMountGroup: '',
  };
}
