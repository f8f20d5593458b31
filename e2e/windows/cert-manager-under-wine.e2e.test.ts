/**
 * cert-manager mode on the Windows node: the node role under Wine with the Windows node.exe, as the
 * csi-cert-driver-node ServiceAccount of deploy/rbac/node.yaml with a kubeconfig (a HostProcess
 * pod's in-cluster credentials cannot be tested here), against the real kube-apiserver. The pieces
 * of cert-manager are the Linux suite's (e2e/kube/harness.ts): the CertificateRequest CRD, the
 * requester policy that plays cert-manager's webhook, and the test fake signer. The node creates each
 * request as the pod's ServiceAccount with the pod's API token from kubelet's token map; OpenSSL on
 * Linux then checks the files the node wrote on the Windows side. Needs Wine
 * (`bash scripts/install-wine.sh`) and the kube binaries; skipped, saying so, without Wine.
 *
 * Wine only: node.exe loads `support/wine-keepalive-shim.mjs` (WINE_KEEPALIVE_NODE_OPTIONS in support/wine.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opensslOk, pemLabels, publicKeys, serialOf, verifyChain } from '../support/openssl.js';
import { waitFor } from '../support/wait.js';
import { listCertificateRequests, type CertificateRequestObject } from '../kube/cert-manager-fixtures.js';
import { SERVICE_ACCOUNT_ISSUER } from '../kube/control-plane.js';
import type { FakeCertManagerSigner, Decision } from '../kube/fake-cert-manager-signer.js';
import { startFakeCertManager, startKubeSuite, stopKubeSuite, type KubeSuite } from '../kube/harness.js';
import { APPS, NS, TOKENS_KEY } from '../kube/names.js';
import { publishStep, unpublishStep } from './plan.js';
import { NODE_ID } from './rpc-table.js';
import { MANIFEST, copyOneGeneration, expectNothingOf } from './support/checks.js';
import type { WinVolume } from './support/layout.js';
import { WineSession } from './support/session.js';
import { WINE_KEEPALIVE_NODE_OPTIONS, WINE_SKIP_REASON, onZ, wineReady } from './support/wine.js';

const P = 'csi.k8s.cert-driver/';
const ISSUER_REF = { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' };
const DENIAL = { reason: 'PolicyDenied', message: 'namespace apps may not use ca-issuer' };

/** The volume-id label of a request: the first 63 hex characters of sha256(volume id). */
const volumeLabel = (volumeId: string) => createHash('sha256').update(volumeId).digest('hex').slice(0, 63);

describe.skipIf(!wineReady)(
  `cert-manager mode on the Windows node under Wine${wineReady ? '' : ` (skipped: ${WINE_SKIP_REASON})`}`,
  () => {
    let suite: KubeSuite;
    let signer: FakeCertManagerSigner | undefined;
    let caFile: string;
    let w: WineSession | undefined;
    /** Every request the signer saw, as it first saw it (before the node deletes it). */
    const seen = new Map<string, CertificateRequestObject>();

    /** Pods named `denied-…` are denied by the fake approver; everything else is signed. */
    const decide = (cr: CertificateRequestObject): Decision => {
      seen.set(cr.metadata!.name!, structuredClone(cr));
      const pod = cr.metadata!.ownerReferences?.[0]?.name ?? '';
      return pod.startsWith('denied-') ? { action: 'deny', ...DENIAL } : { action: 'sign' };
    };

    beforeAll(async () => {
      suite = await startKubeSuite({
        suite: 'windows-cert-manager',
        tmpPrefix: 'win-cm',
        nodes: [NODE_ID],
        rbac: ['node.yaml'],
      });
      ({ signer, caFile } = await startFakeCertManager(suite, {
        caName: 'fake cert-manager CA (Windows e2e)',
        issuerRef: ISSUER_REF,
        decide,
      }));
      const token = await suite.cluster.serviceAccountToken(NS, 'csi-cert-driver-node');
      const kubeconfig = suite.cp.kubeconfigFor('windows-node', token).path;
      w = await WineSession.start({
        nodeSettings: {
          KUBECONFIG: onZ(kubeconfig),
          CERT_MANAGER_ENABLED: 'true',
          CERT_MANAGER_TIMEOUT: '30s',
          STATUS_OBJECTS: 'false',
          POD_EVENTS: 'false',
          // Wine only: keep-alive deferred until connected (see the shim).
          NODE_OPTIONS: WINE_KEEPALIVE_NODE_OPTIONS,
        },
      });
    }, 600_000);
    afterAll(() => stopKubeSuite(suite ?? {}, [() => w?.close(), () => signer?.stop()]));

    /** A pod of `APPS` bound to the Windows node and its volume, with the pod's API token as kubelet passes it. */
    async function podVolume(
      name: string,
    ): Promise<{ pod: V1Pod; vol: WinVolume; attributes: Record<string, string> }> {
      const pod = await suite.cluster.pod({
        namespace: APPS,
        name,
        serviceAccount: 'web',
        nodeName: NODE_ID,
      });
      const token = await suite.cluster.podToken({ pod, audience: SERVICE_ACCOUNT_ISSUER });
      const vol = w!.layout.newVolume({
        name,
        namespace: APPS,
        uid: pod.metadata!.uid!,
        serviceAccount: 'web',
      });
      const expirationTimestamp = new Date(Date.now() + 600_000).toISOString();
      const attributes = {
        [`${P}issuer-name`]: ISSUER_REF.name,
        [`${P}dns-names`]: '${POD_NAME}.${POD_NAMESPACE}.svc',
        [TOKENS_KEY]: JSON.stringify({ '': { token, expirationTimestamp } }),
      };
      return { pod, vol, attributes };
    }

    it('publishes the issued certificate, a matching key and the CA, and deletes the request', async () => {
      const { pod, vol, attributes } = await podVolume('win-web-0');
      await w!.run('publish', [publishStep('cm', vol, attributes)]);
      const res = w!.result('cm');
      expect(res.code, res.details).toBe(0);

      const cr = [...seen.values()].find((c) => c.metadata!.ownerReferences?.[0]?.uid === pod.metadata!.uid);
      expect(cr, 'the signer saw the request').toBeDefined();
      // Set by the requester policy from the authenticated user: the Windows node acted as the pod.
      expect(cr!.spec.username).toBe('system:serviceaccount:apps:web');
      expect(cr!.metadata!.labels).toEqual({
        [`${P}node`]: NODE_ID,
        [`${P}volume-id`]: volumeLabel(vol.volumeId),
      });
      expect(cr!.spec.issuerRef).toEqual(ISSUER_REF);

      const crt = join(vol.linuxTarget, 'tls.crt');
      const key = join(vol.linuxTarget, 'tls.key');
      const verified = await verifyChain(caFile, crt);
      expect(verified.ok, `openssl verify: ${verified.output}`).toBe(true);
      expect(readFileSync(join(vol.linuxTarget, 'ca.crt'), 'utf8').trim()).toBe(
        readFileSync(caFile, 'utf8').trim(),
      );
      // tls.crt is what the signer put into status.certificate: the leaf for the request's key.
      expect(pemLabels(crt)[0]).toBe('CERTIFICATE');
      const csrFile = join(w!.layout.work, 'win-web-0.csr');
      writeFileSync(csrFile, Buffer.from(cr!.spec.request, 'base64'));
      await opensslOk(['req', '-in', csrFile, '-noout', '-verify']);
      const csrKey = await opensslOk(['req', '-in', csrFile, '-noout', '-pubkey']);
      const { fromKey, fromCert } = await publicKeys(key, crt);
      expect(fromKey, 'the private key belongs to the certificate').toBe(fromCert);
      expect(csrKey.trim(), 'the certificate carries the key of the request').toBe(fromCert);
      expect(res.listing?.files.sort()).toEqual([MANIFEST, 'ca.crt', 'tls.crt', 'tls.key'].sort());

      await waitFor('the request to be deleted', async () =>
        (await listCertificateRequests(suite.cluster, APPS, `${P}volume-id=${volumeLabel(vol.volumeId)}`))
          .length === 0
          ? true
          : undefined,
      );
      expect(w!.node!.logText()).not.toMatch(/PRIVATE KEY|eyJ/);

      await w!.run('unpublish', [unpublishStep('cm:unpub', vol)]);
      expect(w!.result('cm:unpub').code).toBe(0);
      expectNothingOf(vol, w!.layout.stateFile(vol.volumeId));
    });

    it('renews through a new CertificateRequest, replacing the files in place with a matching pair', async () => {
      const { pod, vol, attributes } = await podVolume('win-renew-0');
      // 1m certificates renewed 55 s before expiry: the first renewal is due ~5 s after issuance.
      const renewing = { ...attributes, [`${P}duration`]: '1m', [`${P}renew-before`]: '55s' };
      await w!.run('renew', [publishStep('cm:renew', vol, renewing)]);
      expect(w!.result('cm:renew').code, w!.result('cm:renew').details).toBe(0);
      const crt = join(vol.linuxTarget, 'tls.crt');
      const first = await serialOf(crt);
      await waitFor(
        'a renewed certificate',
        async () => ((await serialOf(crt)) !== first ? true : undefined),
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      // Renewals keep coming every ~5 s: judge one whole generation, not files read at random times.
      const copy = await waitFor('one whole generation of the volume', () =>
        copyOneGeneration(vol, ['tls.key', 'tls.crt']),
      );
      expect((await verifyChain(caFile, join(copy, 'tls.crt'))).ok).toBe(true);
      const { fromKey, fromCert } = await publicKeys(join(copy, 'tls.key'), join(copy, 'tls.crt'));
      expect(fromKey, 'the renewed key belongs to the renewed certificate').toBe(fromCert);
      rmSync(copy, { recursive: true, force: true });
      const requests = [...seen.values()].filter(
        (c) => c.metadata!.ownerReferences?.[0]?.uid === pod.metadata!.uid,
      );
      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(new Set(requests.map((c) => c.spec.username))).toEqual(
        new Set(['system:serviceaccount:apps:web']),
      );
      await w!.run('renew-unpublish', [unpublishStep('cm:renew:unpub', vol)]);
      expect(w!.result('cm:renew:unpub').code).toBe(0);
      expectNothingOf(vol, w!.layout.stateFile(vol.volumeId));
    });

    it('refuses a denied request with PERMISSION_DENIED naming the reason, writes nothing, and records a pod Event', async () => {
      const { pod, vol, attributes } = await podVolume('denied-win-0');
      await w!.run('denied', [publishStep('cm:denied', vol, attributes)]);
      const res = w!.result('cm:denied');
      expect(res.code).toBe(7);
      expect(res.details).toMatch(new RegExp(`denied .*${DENIAL.reason}: ${DENIAL.message}`));
      expectNothingOf(vol, w!.layout.stateFile(vol.volumeId));
      const ev = await waitFor('a pod Event', async () =>
        (
          await suite.cluster.core.listNamespacedEvent({
            namespace: APPS,
            fieldSelector: `involvedObject.uid=${pod.metadata!.uid!}`,
          })
        ).items.find((e) => e.reason === 'CertificateRequestDenied'),
      );
      expect(ev.type).toBe('Warning');
      expect(ev.source?.host).toBe(NODE_ID);
      expect(ev.message).toContain(DENIAL.message);
    });
  },
);
