/**
 * What the issuer role takes from Kubernetes: the CA from its Secret (watched) when CA_SECRET_NAME
 * is set, and the caller authorizer when ISSUER_AUTH=kubernetes. One kubeconfig serves both.
 */
import type { IssuerConfig } from '../../config/config.js';
import type { Logger } from '../../common/logger.js';
import type { CallerAuthorizer } from '../../issuer/auth/caller-authorizer.js';
import { KubernetesAuthorizer } from '../../issuer/auth/kubernetes-authorizer.js';
import type { CertificateAuthority } from '../../issuer/certificate-authority.js';
import { readCaSecret } from './ca-secret.js';
import { kubeJson } from '../client/kube-json.js';
import { loadKubeClients } from '../client/kube-client.js';
import { kubernetesPodReader } from './pod-reader.js';
import type { SecretWatch } from './secret-watcher.js';
import { DEFAULT_TOKEN_REVIEW_CACHE, TokenReviewCache } from '../../issuer/auth/token-review-cache.js';
import { kubernetesTokenReviewer } from './token-review.js';

export interface IssuerKubernetes {
  /** The CA read from the Secret; undefined when the CA comes from files. */
  ca?: CertificateAuthority | undefined;
  authorizer?: CallerAuthorizer | undefined;
  /** Starts watching the CA Secret; `onRotate` gets each valid new CA. A no-op without a Secret. */
  watchCa(onRotate: (ca: CertificateAuthority) => void): void;
  stop(): void;
}

/** Undefined when the issuer uses no Kubernetes API (CA from files, ISSUER_AUTH=none). */
export async function issuerKubernetes(
  cfg: IssuerConfig,
  logger: Logger,
): Promise<IssuerKubernetes | undefined> {
  if (!cfg.caSecret && cfg.issuerAuth !== 'kubernetes') return undefined;
  const clients = await loadKubeClients({ kubeconfigPath: cfg.kubeconfig });
  const caSecret = cfg.caSecret ? await readCaSecret({ clients, ref: cfg.caSecret, logger }) : undefined;
  let watch: SecretWatch | undefined;
  let stopped = false;
  return {
    ca: caSecret?.ca,
    authorizer:
      cfg.issuerAuth === 'kubernetes'
        ? new KubernetesAuthorizer({
            // ADR 20: a short TokenReview cache, and the pod read only when the token cannot vouch.
            reviewToken: new TokenReviewCache(DEFAULT_TOKEN_REVIEW_CACHE).reviewer(
              cfg.kubernetesAuth.tokenAudience,
              kubernetesTokenReviewer(kubeJson(clients.config), cfg.kubernetesAuth.tokenAudience),
            ),
            readPod: kubernetesPodReader(kubeJson(clients.config)),
            identity: cfg.kubernetesAuth,
            audience: cfg.kubernetesAuth.tokenAudience,
            podLookup: 'when-needed',
            logger,
          })
        : undefined,
    watchCa(onRotate) {
      if (caSecret && !watch && !stopped) watch = caSecret.watch(onRotate);
    },
    stop() {
      stopped = true;
      watch?.stop();
    },
  };
}
