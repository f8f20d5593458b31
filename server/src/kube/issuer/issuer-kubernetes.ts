/**
 * What the issuer role takes from Kubernetes: the CA from its Secret (watched) when CA_SECRET_NAME
 * is set, and the caller authorizer when ISSUER_AUTH=kubernetes. One kubeconfig serves both, as
 * plain JSON through kube-access.ts: over node:https for an in-cluster config or a kubeconfig file
 * its loader supports, so `@kubernetes/client-node` is never loaded (~50 MiB of RSS, ADR 30); through
 * the library otherwise (exec plugins, auth-provider, ...). The start-up log names the transport.
 */
import type { IssuerConfig } from '../../config/config.js';
import type { Logger } from '../../common/logger.js';
import type { CallerAuthorizer } from '../../issuer/auth/caller-authorizer.js';
import { KubernetesAuthorizer } from '../../issuer/auth/kubernetes-authorizer.js';
import type { CertificateAuthority } from '../../issuer/certificate-authority.js';
import { readCaSecret } from './ca-secret.js';
import { loadKubeAccess } from '../client/kube-access.js';
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
  const { json, transport } = await loadKubeAccess({ kubeconfigPath: cfg.kubeconfig, logger });
  logger.info(
    { transport, caSecret: !!cfg.caSecret, issuerAuth: cfg.issuerAuth },
    'issuer Kubernetes access ready',
  );
  const caSecret = cfg.caSecret ? await readCaSecret({ json, ref: cfg.caSecret, logger }) : undefined;
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
              kubernetesTokenReviewer(json, cfg.kubernetesAuth.tokenAudience),
            ),
            readPod: kubernetesPodReader(json),
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
