/**
 * The one place that builds Kubernetes API clients: from a kubeconfig file (`KUBECONFIG`) or, inside
 * a pod, from the service account's in-cluster config. Everything else takes a `KubeClients`.
 *
 * `@kubernetes/client-node` is loaded on demand, by `import()` on the first `loadKubeClients` (or
 * `loadClientLibrary`) call: loading it costs ~85 MiB of RSS (measured, docs/benchmarks.md), which
 * a node role without a Kubernetes feature must not pay. Other modules take its *types* only
 * (`import type`); `kube-client.test.ts` fails when a value import creeps in elsewhere. The node's
 * features (cert-manager mode, status objects, pod Events) and the issuer role take their access
 * from kube-access.ts, which comes here only for a kubeconfig its own loader does not support
 * (ADRs 27 and 30).
 */
import { existsSync } from 'node:fs';
import type * as ClientNode from '@kubernetes/client-node';
import type { AuthenticationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { ConfigError } from '../../config/settings.js';
import { reuseConnections } from './connection-reuse.js';

/** Where kubelet mounts a pod's service-account token; present only inside a pod. */
export const IN_CLUSTER_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeClients {
  config: KubeConfig;
  core: CoreV1Api;
  authn: AuthenticationV1Api;
  watch: Watch;
}

export interface KubeConfigSource {
  /** Path of a kubeconfig file (`KUBECONFIG`); absent means the in-cluster config. */
  kubeconfigPath?: string | undefined;
  /** Environment consulted for the in-cluster config; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** The `@kubernetes/client-node` module: classes such as `CustomObjectsApi` or `CoreV1Event`. */
export type ClientLibrary = typeof ClientNode;

let library: ClientLibrary | undefined;
let loading: Promise<ClientLibrary> | undefined;

/**
 * Loads `@kubernetes/client-node` once per process; every later call gets the same module. Use it
 * for API classes other than the ones in `KubeClients`: `config.makeApiClient(lib.CustomObjectsApi)`.
 * A failed load (package missing from the image) rejects and is tried again on the next call.
 */
export function loadClientLibrary(): Promise<ClientLibrary> {
  loading ??= import('@kubernetes/client-node').then(
    (m) => (library = m),
    (e: unknown) => {
      loading = undefined;
      throw e;
    },
  );
  return loading;
}

/**
 * The async client factory, for every role and feature that talks to the API server: loads the
 * client library on first use, then the kubeconfig named by `kubeconfigPath`, else the in-cluster
 * config, and builds the clients. Rejects with a ConfigError naming KUBECONFIG when neither config
 * is usable. Each call builds new clients; callers keep theirs for the life of the feature.
 */
export async function loadKubeClients(src: KubeConfigSource = {}): Promise<KubeClients> {
  await loadClientLibrary();
  return createKubeClients(loadKubeConfig(src));
}

function loaded(): ClientLibrary {
  if (!library) {
    throw new Error(
      '@kubernetes/client-node is not loaded yet: await loadClientLibrary() or loadKubeClients()',
    );
  }
  return library;
}

/**
 * Loads the kubeconfig named by `kubeconfigPath`, else the in-cluster config. Throws a ConfigError
 * naming KUBECONFIG when neither is usable. Synchronous, so it needs the library loaded first
 * (`await loadClientLibrary()`), and throws a plain Error otherwise; prefer `loadKubeClients`.
 */
export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
  const kc = new (loaded().KubeConfig)();
  if (src.kubeconfigPath) {
    try {
      kc.loadFromFile(src.kubeconfigPath);
    } catch (e) {
      throw new ConfigError('KUBECONFIG', `cannot load ${src.kubeconfigPath}: ${(e as Error).message}`);
    }
    if (!kc.getCurrentCluster()) {
      throw new ConfigError('KUBECONFIG', `${src.kubeconfigPath} has no current context with a cluster`);
    }
    return reuseConnections(kc);
  }
  const env = src.env ?? process.env;
  if (!env.KUBERNETES_SERVICE_HOST || !existsSync(IN_CLUSTER_TOKEN_FILE)) {
    throw new ConfigError(
      'KUBECONFIG',
      'is not set and the process does not run in a pod (no KUBERNETES_SERVICE_HOST or service-account token)',
    );
  }
  kc.loadFromCluster();
  return reuseConnections(kc);
}

/**
 * The API clients of one kubeconfig. Synchronous: a `KubeConfig` built by `loadKubeConfig` means the
 * library is loaded; throws a plain Error when it is not.
 */
export function createKubeClients(config: KubeConfig): KubeClients {
  const lib = loaded();
  return {
    config,
    core: config.makeApiClient(lib.CoreV1Api),
    authn: config.makeApiClient(lib.AuthenticationV1Api),
    watch: new lib.Watch(config),
  };
}
