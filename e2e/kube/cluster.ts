/**
 * What tests do to the test control plane as its admin: namespaces, service accounts, nodes, pods
 * bound to a node by spec.nodeName (no scheduler or kubelet runs), pod-bound tokens through the
 * TokenRequest API, Secrets, and manifests from the repository.
 */
import { readFileSync } from 'node:fs';
import {
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { SERVICE_ACCOUNT_ISSUER, type ControlPlane } from './control-plane.js';
import { APPS } from './names.js';

export interface PodSpecOptions {
  /** Default `APPS`. */
  namespace?: string;
  name: string;
  /** Default `web`. */
  serviceAccount?: string;
  nodeName: string;
  hostname?: string;
  subdomain?: string;
}

export interface PodTokenOptions {
  pod: V1Pod;
  audience: string;
  expirationSeconds?: number;
}

function tokenOf(token: string | undefined): string {
  if (!token) throw new Error('TokenRequest returned no token');
  return token;
}

export class TestCluster {
  readonly core: CoreV1Api;
  readonly objects: KubernetesObjectApi;

  constructor(readonly cp: ControlPlane) {
    this.core = cp.kubeConfig.makeApiClient(CoreV1Api);
    this.objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
  }

  async namespace(name: string): Promise<void> {
    await this.core.createNamespace({ body: { metadata: { name } } });
  }

  async serviceAccount(namespace: string, name: string): Promise<void> {
    await this.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  }

  /** A Node object (no kubelet behind it), so pod-bound tokens carry the node's name. */
  async node(name: string): Promise<void> {
    await this.core.createNode({ body: { metadata: { name, labels: { 'kubernetes.io/hostname': name } } } });
  }

  /** A pod already "scheduled" to `nodeName`; it stays Pending since no kubelet runs. */
  async pod(o: PodSpecOptions): Promise<V1Pod> {
    return this.core.createNamespacedPod({
      namespace: o.namespace ?? APPS,
      body: {
        metadata: { name: o.name },
        spec: {
          serviceAccountName: o.serviceAccount ?? 'web',
          nodeName: o.nodeName,
          automountServiceAccountToken: false,
          hostname: o.hostname,
          subdomain: o.subdomain,
          containers: [{ name: 'app', image: 'registry.invalid/app:1' }],
        },
      },
    });
  }

  /** Sets status.podIP(s), as a kubelet would. */
  async podIPs(pod: V1Pod, ips: string[]): Promise<V1Pod> {
    const current = await this.core.readNamespacedPod({
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
    });
    current.status = { ...current.status, podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) };
    return this.core.replaceNamespacedPodStatus({
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      body: current,
    });
  }

  /**
   * A token of the pod's service account bound to the pod (TokenRequest with boundObjectRef kind
   * Pod), as kubelet requests for CSIDriver tokenRequests.
   */
  async podToken(o: PodTokenOptions): Promise<string> {
    const res = await this.core.createNamespacedServiceAccountToken({
      namespace: o.pod.metadata!.namespace!,
      name: o.pod.spec!.serviceAccountName!,
      body: {
        spec: {
          audiences: [o.audience],
          expirationSeconds: o.expirationSeconds ?? 600,
          boundObjectRef: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: o.pod.metadata!.name!,
            uid: o.pod.metadata!.uid!,
          },
        },
      },
    });
    return tokenOf(res.status?.token);
  }

  /** A token of a service account for the API server itself (what a pod's projected token is). */
  async serviceAccountToken(
    namespace: string,
    name: string,
    audience = SERVICE_ACCOUNT_ISSUER,
  ): Promise<string> {
    const res = await this.core.createNamespacedServiceAccountToken({
      namespace,
      name,
      body: { spec: { audiences: [audience], expirationSeconds: 3600 } },
    });
    return tokenOf(res.status?.token);
  }

  /** Creates or replaces a kubernetes.io/tls Secret. */
  async tlsSecret(
    namespace: string,
    name: string,
    data: { crt: string; key: string; ca?: string },
  ): Promise<void> {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const body = {
      metadata: { name, namespace },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': b64(data.crt),
        'tls.key': b64(data.key),
        ...(data.ca ? { 'ca.crt': b64(data.ca) } : {}),
      },
    };
    try {
      await this.core.readNamespacedSecret({ name, namespace });
    } catch {
      await this.core.createNamespacedSecret({ namespace, body });
      return;
    }
    await this.core.replaceNamespacedSecret({ name, namespace, body });
  }

  /** Creates every object of a YAML manifest after `edit` (which may rewrite names and namespaces). */
  async apply(
    file: string,
    edit: (obj: KubernetesObject) => KubernetesObject = (o) => o,
  ): Promise<KubernetesObject[]> {
    const docs = (loadAllYaml(readFileSync(file, 'utf8')) as (KubernetesObject | null)[]).filter(
      (d): d is KubernetesObject => d !== null,
    );
    const created: KubernetesObject[] = [];
    for (const doc of docs) created.push(await this.objects.create(edit(doc)));
    return created;
  }
}
