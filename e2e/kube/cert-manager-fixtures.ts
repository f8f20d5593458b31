/**
 * cert-manager's API without cert-manager (its controller and webhook cannot run here): the
 * CertificateRequest CRD written for the tests, and a MutatingAdmissionPolicy that plays
 * cert-manager's webhook by setting spec.username/uid/groups from the authenticated requester.
 * `installCertManagerFixtures` applies both and returns once the CRD is Established and the policy
 * demonstrably rewrites spec.username (a dry-run create), so tests never race either. The signer is
 * `fake-cert-manager-signer.ts`. Used by the node's cert-manager e2e suite and the approver's.
 */
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import type { TestCluster } from './cluster.js';

export const FIXTURES = join(REPO_ROOT, 'e2e', 'kube', 'fixtures');
export const CERTIFICATE_REQUEST_CRD = join(FIXTURES, 'cert-manager.io_certificaterequests.yaml');
export const REQUESTER_POLICY = join(FIXTURES, 'cert-manager-requester-policy.yaml');

export const CM_GROUP = 'cert-manager.io';
export const CM_VERSION = 'v1';
export const CM_PLURAL = 'certificaterequests';

/** A CertificateRequest as the tests read it (status.certificate/ca base64, as stored). */
export interface CertificateRequestObject extends KubernetesObject {
  spec: {
    request: string;
    issuerRef: { name: string; kind?: string; group?: string };
    duration?: string;
    isCA?: boolean;
    usages?: string[];
    username?: string;
    uid?: string;
    groups?: string[];
  };
  status?: {
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    certificate?: string;
    ca?: string;
    failureTime?: string;
  };
}

function established(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
}

/** Applies the CRD and the requester policy; resolves when both are in force. */
export async function installCertManagerFixtures(cluster: TestCluster): Promise<void> {
  const kc = cluster.cp.kubeConfig;
  await cluster.apply(CERTIFICATE_REQUEST_CRD);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    'the CertificateRequest CRD to be Established',
    async () =>
      established(await ext.readCustomResourceDefinition({ name: `${CM_PLURAL}.${CM_GROUP}` }))
        ? true
        : undefined,
    { timeoutMs: 30_000 },
  );
  await cluster.apply(REQUESTER_POLICY);
  const objects = kc.makeApiClient(CustomObjectsApi);
  // The admin (static token user "admin") claims to be someone else; the policy must overwrite it.
  await waitFor(
    'the requester policy to set spec.username',
    async () => {
      const probe = (await objects.createNamespacedCustomObject({
        group: CM_GROUP,
        version: CM_VERSION,
        namespace: 'default',
        plural: CM_PLURAL,
        dryRun: 'All',
        body: {
          apiVersion: `${CM_GROUP}/${CM_VERSION}`,
          kind: 'CertificateRequest',
          metadata: { generateName: 'fixture-probe-' },
          spec: {
            request: Buffer.from('probe').toString('base64'),
            issuerRef: { name: 'probe' },
            username: 'someone-else',
          },
        },
      })) as CertificateRequestObject;
      return probe.spec.username === 'admin' ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}

/** Every CertificateRequest of `namespace` (all namespaces when omitted), as the admin sees them. */
export async function listCertificateRequests(
  cluster: TestCluster,
  namespace?: string,
  labelSelector?: string,
): Promise<CertificateRequestObject[]> {
  const objects = cluster.cp.kubeConfig.makeApiClient(CustomObjectsApi);
  const list = (
    namespace
      ? await objects.listNamespacedCustomObject({
          group: CM_GROUP,
          version: CM_VERSION,
          namespace,
          plural: CM_PLURAL,
          labelSelector,
        })
      : await objects.listClusterCustomObject({
          group: CM_GROUP,
          version: CM_VERSION,
          plural: CM_PLURAL,
          labelSelector,
        })
  ) as { items: CertificateRequestObject[] };
  return list.items;
}
