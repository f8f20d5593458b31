/**
 * The one place that builds Kubernetes API clients: from a kubeconfig file (`KUBECONFIG`) or, inside
 * a pod, from the service account's in-cluster config. Everything else takes a `KubeClients`.
 */
import { existsSync } from 'node:fs';
import { AuthenticationV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { ConfigError } from '../config/settings.js';

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

/**
 * Loads the kubeconfig named by `kubeconfigPath`, else the in-cluster config. Throws a ConfigError
 * naming KUBECONFIG when neither is usable.
 */
export function loadKubeConfig(src: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  if (src.kubeconfigPath) {
    try {
      kc.loadFromFile(src.kubeconfigPath);
    } catch (e) {
      throw new ConfigError('KUBECONFIG', `cannot load ${src.kubeconfigPath}: ${(e as Error).message}`);
    }
    if (!kc.getCurrentCluster()) {
      throw new ConfigError('KUBECONFIG', `${src.kubeconfigPath} has no current context with a cluster`);
    }
    return kc;
  }
  const env = src.env ?? process.env;
  if (!env.KUBERNETES_SERVICE_HOST || !existsSync(IN_CLUSTER_TOKEN_FILE)) {
    throw new ConfigError(
      'KUBECONFIG',
      'is not set and the process does not run in a pod (no KUBERNETES_SERVICE_HOST or service-account token)',
    );
  }
  kc.loadFromCluster();
  return kc;
}

/** The API clients of one kubeconfig. */
export function createKubeClients(config: KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    authn: config.makeApiClient(AuthenticationV1Api),
    watch: new Watch(config),
  };
}
