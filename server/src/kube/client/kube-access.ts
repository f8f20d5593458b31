/**
 * Access to the API server as plain JSON requests and watches (KubeJson), for the node's
 * cert-manager mode and status feature (ADR 27) and the issuer's TokenReviews, pod reads and CA
 * Secret (ADR 30): the one place that picks how.
 *
 * A kubeconfig the loader supports (kubeconfig.ts: in-cluster, or a file with tokens, token files,
 * client certificates and CAs) goes over `node:https` (kube-https.ts) and never loads
 * `@kubernetes/client-node`, which costs a process ~50 MiB of RSS. Anything else (exec plugins,
 * auth-provider, proxy-url, ...) goes through the library's KubeConfig as before (kube-json.ts),
 * never an error. A kubeconfig that is wrong is a ConfigError naming KUBECONFIG either way.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import { InternalError } from '../../common/errors.js';
import { reuseConnections } from './connection-reuse.js';
import { loadClientLibrary, loadKubeConfig, type ClientLibrary } from './kube-client.js';
import { httpsKubeJson } from './kube-https.js';
import { NoConnectionPoolError, kubeJson, type KubeJson } from './kube-json.js';
import { loadClusterAccess, type KubeConfigSource } from './kubeconfig.js';

export interface KubeAccess {
  /** Requests and watches as the identity of the kubeconfig. */
  json: KubeJson;
  /**
   * Requests to the same API server, over the same TLS settings, authenticated by `token` only
   * (no client certificate, exec plugin or token file of the kubeconfig's own user).
   */
  asToken(token: string): KubeJson;
  /** `https` (node:https, no client library) or `library` (@kubernetes/client-node). */
  transport: 'https' | 'library';
}

/**
 * The KubeAccess of `src` (see above). Rejects with a ConfigError naming KUBECONFIG when neither
 * the file nor the in-cluster config is usable.
 */
export async function loadKubeAccess(src: KubeConfigSource & { logger?: Logger }): Promise<KubeAccess> {
  const loaded = await loadClusterAccess(src);
  if (loaded.supported) {
    const { access } = loaded;
    return {
      json: httpsKubeJson(access),
      asToken: (token) =>
        httpsKubeJson({
          ...access,
          clientCert: undefined,
          token: { read: () => Promise.resolve(Buffer.from(token)) },
        }),
      transport: 'https',
    };
  }
  src.logger?.info({ reason: loaded.reason }, 'kubeconfig needs the Kubernetes client library');
  const lib = await loadClientLibrary();
  const base = loadKubeConfig(src);
  return {
    json: libraryKubeJson(lib, base),
    asToken: (token) => libraryKubeJson(lib, kubeConfigWithToken(lib, base, token)),
    transport: 'library',
  };
}

/**
 * KubeJson on a library KubeConfig (kube-json.ts); a watch on a cluster for which the library
 * gives no connection pool goes through the library's own Watch.
 */
export function libraryKubeJson(lib: ClientLibrary, kc: KubeConfig): KubeJson {
  const json = kubeJson(kc);
  let pooled = true;
  const library = new lib.Watch(kc);
  return {
    request: (method, path, body, contentType) => json.request(method, path, body, contentType),
    async watch(path, onEvent, onDone, idleMs) {
      if (pooled) {
        try {
          return await json.watch(path, onEvent, onDone, idleMs);
        } catch (e) {
          if (!(e instanceof NoConnectionPoolError)) throw e;
          pooled = false;
        }
      }
      const [resource, query = ''] = path.split('?');
      const params = Object.fromEntries(new URLSearchParams(query));
      delete params.watch;
      return library.watch(resource!, params, onEvent, onDone);
    },
  };
}

/**
 * A kubeconfig for the same cluster as `base` that authenticates with `token` only (no client
 * certificate, exec plugin or token file of the driver's own user).
 */
export function kubeConfigWithToken(lib: ClientLibrary, base: KubeConfig, token: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new InternalError('the kubeconfig has no current cluster');
  const kc = new lib.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'pod', token }],
    contexts: [{ name: 'pod', cluster: cluster.name, user: 'pod' }],
    currentContext: 'pod',
  });
  return reuseConnections(kc);
}
