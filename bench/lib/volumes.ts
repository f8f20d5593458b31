/** Kubelet-shaped volumes for the benchmark: a fresh id, pod and target path every time. */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  kubeletPublishRequest,
  type CsiClient,
  type KubeletPublishInput,
} from '../../server/src/demo/csi-client.js';

export type Algorithm = 'ECDSA' | 'RSA';

export const KEY_ATTRIBUTES: Readonly<Record<Algorithm, Record<string, string>>> = {
  ECDSA: { 'csi.k8s.cert-driver/key-algorithm': 'ECDSA', 'csi.k8s.cert-driver/key-size': '256' },
  RSA: { 'csi.k8s.cert-driver/key-algorithm': 'RSA', 'csi.k8s.cert-driver/key-size': '2048' },
};

export const LABEL: Readonly<Record<Algorithm, string>> = { ECDSA: 'ECDSA P-256', RSA: 'RSA-2048' };

let counter = 0;

/**
 * A new volume as kubelet would publish it: id `csi-<sha256>`, target
 * `<kubeletRoot>/pods/<uid>/volumes/kubernetes.io~csi/tls/mount` whose parent exists (kubelet creates
 * it; the driver creates `mount`).
 */
export async function newVolume(kubeletRoot: string, algorithm: Algorithm): Promise<KubeletPublishInput> {
  const n = counter++;
  const uid = randomUUID();
  const volumeId = `csi-${createHash('sha256').update(`${uid}/tls`).digest('hex')}`;
  const parent = path.join(kubeletRoot, 'pods', uid, 'volumes', 'kubernetes.io~csi', 'tls');
  await mkdir(parent, { recursive: true });
  return {
    volumeId,
    targetPath: path.join(parent, 'mount'),
    pod: { name: `bench-${n}`, namespace: 'bench', uid, serviceAccount: 'default' },
    attributes: { ...KEY_ATTRIBUTES[algorithm] },
  };
}

/** An ECDSA P-256 volume living a day: what the fleet and memory runs keep published. */
export const DAY_LONG_ECDSA: Readonly<Record<string, string>> = {
  ...KEY_ATTRIBUTES.ECDSA,
  'csi.k8s.cert-driver/duration': '24h',
};

/** Publishes a new volume (see `newVolume`) with `attributes` through `client`; resolves once published. */
export async function publishNewVolume(
  client: CsiClient,
  kubeletRoot: string,
  attributes: Readonly<Record<string, string>>,
): Promise<KubeletPublishInput> {
  const vol = { ...(await newVolume(kubeletRoot, 'ECDSA')), attributes: { ...attributes } };
  await client.call('Node', 'NodePublishVolume', kubeletPublishRequest(vol));
  return vol;
}
