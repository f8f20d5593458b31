/** Pod lookup adapter of the issuer's PodReader port (RBAC: get pods). */
import type { V1Pod } from '@kubernetes/client-node';
import { InternalError, UnavailableError } from '../../common/errors.js';
import type { PodFacts, PodReader } from '../../issuer/auth/caller-authorizer.js';
import type { KubeJson } from '../client/kube-json.js';
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';

export function podFacts(pod: V1Pod): PodFacts {
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    uid: pod.metadata?.uid ?? '',
    serviceAccount: pod.spec?.serviceAccountName || 'default',
    nodeName: pod.spec?.nodeName ?? '',
    phase: pod.status?.phase ?? '',
    hostname: pod.spec?.hostname,
    subdomain: pod.spec?.subdomain,
    podIPs: (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip),
  };
}

/** Reads a pod through `kubeJson` (kube-json.ts); undefined when it does not exist. */
export function kubernetesPodReader(json: KubeJson): PodReader {
  return async (namespace, name) => {
    try {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`;
      return podFacts((await json.request('GET', path)) as V1Pod);
    } catch (e) {
      const code = kubeStatusCode(e);
      if (code === 404) return undefined;
      if (code === 401 || code === 403)
        throw new InternalError(`the issuer may not get pods (RBAC): ${describeKubeError(e)}`);
      throw new UnavailableError(`reading pod ${namespace}/${name} failed: ${describeKubeError(e)}`);
    }
  };
}
