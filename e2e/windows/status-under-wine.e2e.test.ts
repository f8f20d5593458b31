/**
 * Windows parity of the Kubernetes features: the node role under Wine with the Windows node.exe
 * writes CertVolumeStatus objects and pod Events to a real kube-apiserver, with a kubeconfig (a
 * HostProcess pod's in-cluster credentials cannot be tested here), as the ServiceAccount of
 * deploy/rbac/node-status.yaml; the cluster view (a Linux process, as its own ServiceAccount) then
 * shows the Windows node next to a Linux one. Needs Wine (`bash scripts/install-wine.sh`) and the
 * kube binaries; skipped, saying so, without Wine.
 *
 * Under Wine 8, keep-alive set on a socket that is still connecting fails the connect (`UNKNOWN`),
 * and undici (client-node's HTTP client) does that on every connection: the node.exe here loads
 * `support/wine-keepalive-shim.mjs`, which defers it until connected. Only this workaround is not
 * the shipped product.
 */
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterNode, ClusterVolumeDetails, ClusterVolumePage } from '@csi-cert-driver/api-contract';
import { REPO_ROOT } from '../support/repo.js';
import { normaliseSerial, serialOf } from '../support/openssl.js';
import { waitFor } from '../support/wait.js';
import { healthy } from '../cluster-view/fixtures.js';
import { getJson, NS, startClusterViewEnv, type ClusterViewEnv } from '../cluster-view/harness.js';
import { publishStep, unpublishStep } from './plan.js';
import { NODE_ID } from './rpc-table.js';
import { WineSession } from './support/session.js';
import { WINE_KEEPALIVE_NODE_OPTIONS, WINE_SKIP_REASON, onZ, wineReady } from './support/wine.js';

interface Cvs {
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  status: { node: string; pod: { name: string; uid: string }; serialNumber?: string; targetPath?: string };
}

describe.skipIf(!wineReady)(
  `status objects and pod Events from the Windows node under Wine${wineReady ? '' : ` (skipped: ${WINE_SKIP_REASON})`}`,
  () => {
    let env: ClusterViewEnv;
    let w: WineSession;
    let custom: CustomObjectsApi;
    let core: CoreV1Api;
    const list = async (): Promise<Cvs[]> =>
      (
        (await custom.listClusterCustomObject({
          group: 'csi-cert-driver.io',
          version: 'v1alpha1',
          plural: 'certvolumestatuses',
        })) as { items: Cvs[] }
      ).items;

    beforeAll(async () => {
      env = await startClusterViewEnv('windows-status');
      custom = env.cp.kubeConfig.makeApiClient(CustomObjectsApi);
      core = env.cp.kubeConfig.makeApiClient(CoreV1Api);
      await env.cluster.apply(join(REPO_ROOT, 'deploy', 'rbac', 'node-status.yaml'));
      const token = await env.cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
      const kubeconfig = env.cp.kubeconfigFor('windows-node', token).path;
      w = await WineSession.start({
        nodeSettings: {
          KUBECONFIG: onZ(kubeconfig),
          STATUS_OBJECTS: 'true',
          POD_EVENTS: 'true',
          STATUS_QPS: '20',
          STATUS_BURST: '20',
          // Wine only: keep-alive deferred until connected (see the shim).
          NODE_OPTIONS: WINE_KEEPALIVE_NODE_OPTIONS,
        },
      });
    }, 600_000);
    afterAll(async () => {
      await w?.close();
      await env?.stop();
    });

    it('writes a CertVolumeStatus for a volume it publishes, with the certificate on disk, and deletes it on unpublish', async () => {
      const vol = w.layout.newVolume(w.layout.newPod('win-web-0', 'default'));
      await w.run('publish', [publishStep('pub', vol, {})]);
      expect(w.result('pub').code).toBe(0);
      const obj = await waitFor(
        'the status object of the Windows volume',
        async () => (await list()).find((o) => o.status.pod.uid === vol.pod.uid),
        { timeoutMs: 60_000 },
      );
      expect(obj.metadata.namespace).toBe('default');
      expect(obj.status.node).toBe(NODE_ID);
      expect(obj.metadata.labels['csi-cert-driver.io/node']).toBe(NODE_ID);
      expect(obj.status.targetPath).toBe(vol.targetPath);
      const onDisk = await serialOf(join(vol.linuxTarget, 'tls.crt'));
      expect(normaliseSerial(obj.status.serialNumber!)).toBe(onDisk);

      // The cluster view shows the Windows node next to a Linux one.
      await env.write([healthy('shop', 'linux-web-0', 'linux-a')]);
      const view = await env.startView();
      const nodes = await getJson<{ items: ClusterNode[] }>(`${view.url}/api/v1/cluster/nodes`);
      expect(nodes.items.map((n) => [n.nodeId, n.health, n.total]).sort()).toEqual([
        [NODE_ID, 'ok', 1],
        ['linux-a', 'ok', 1],
      ]);
      const page = await getJson<ClusterVolumePage>(`${view.url}/api/v1/cluster/volumes?node=${NODE_ID}`);
      const d = await getJson<ClusterVolumeDetails>(
        `${view.url}/api/v1/cluster/volumes/${page.items[0]!.id}`,
      );
      expect([d.pod, d.state, d.targetPath]).toEqual(['win-web-0', 'healthy', vol.targetPath]);

      await w.run('unpublish', [unpublishStep('unpub', vol)]);
      expect(w.result('unpub').code).toBe(0);
      await waitFor(
        'the object to be deleted',
        async () => ((await list()).some((o) => o.status.pod.uid === vol.pod.uid) ? undefined : true),
        { timeoutMs: 60_000 },
      );
      await waitFor('the cluster view to drop it', async () => {
        const p = await getJson<ClusterVolumePage>(`${view.url}/api/v1/cluster/volumes?node=${NODE_ID}`);
        return p.total === 0 ? true : undefined;
      });
    });

    it('records a Warning Event on the pod when the issuer refuses its certificate', async () => {
      const vol = w.layout.newVolume(w.layout.newPod('win-wants-ca', 'default'));
      await w.run('denied', [publishStep('deny', vol, { 'csi.k8s.cert-driver/is-ca': 'true' })]);
      expect(w.result('deny').code).not.toBe(0);
      const ev = await waitFor(
        'a Warning Event on the pod',
        async () =>
          (await core.listNamespacedEvent({ namespace: 'default' })).items.find(
            (e) => e.involvedObject.uid === vol.pod.uid && e.type === 'Warning',
          ),
        { timeoutMs: 60_000 },
      );
      expect(ev.reason).toMatch(/^Issuance(Denied|Rejected)$/);
      expect(ev.source?.host).toBe(NODE_ID);
      expect(ev.message).not.toMatch(/PRIVATE KEY|eyJ/);
    });
  },
);
