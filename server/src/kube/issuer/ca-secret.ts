/**
 * The issuer's CA from a `kubernetes.io/tls` Secret (`CA_SECRET_NAME` in `CA_SECRET_NAMESPACE`):
 * `tls.crt` (the signing CA, optionally followed by its chain), `tls.key`, and optionally `ca.crt`
 * (the root, appended to the chain when `tls.crt` does not already end with it). The Secret is
 * watched: a valid new version replaces the CA in use; an invalid one is logged and ignored.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.js';
import { CertificateAuthority } from '../../issuer/certificate-authority.js';
import { ConfigError } from '../../issuer/errors.js';
import { certificatePems, joinPem } from '../../pki/pem.js';
import type { KubeJson } from '../client/kube-json.js';
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';
import { readSecret, watchSecret, type ObjectRef, type SecretWatch } from './secret-watcher.js';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

function setting(ref: ObjectRef, key?: string): string {
  return `CA_SECRET_NAME (Secret ${ref.namespace}/${ref.name}${key ? ` ${key}` : ''})`;
}

/** Validates and loads the CA held by `secret`. Throws ConfigError naming the Secret and its key. */
export async function caFromSecret(
  secret: V1Secret,
  ref: ObjectRef,
  now = new Date(),
): Promise<CertificateAuthority> {
  if (secret.type !== TLS_SECRET_TYPE) {
    throw new ConfigError(setting(ref), `has type '${secret.type ?? ''}', want ${TLS_SECRET_TYPE}`);
  }
  const text = (key: string): string | undefined => {
    const b64 = secret.data?.[key];
    return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');
  };
  const certPem = text('tls.crt');
  const keyPem = text('tls.key');
  if (!certPem) throw new ConfigError(setting(ref, 'tls.crt'), 'is missing or empty');
  if (!keyPem) throw new ConfigError(setting(ref, 'tls.key'), 'is missing or empty');
  return CertificateAuthority.load({
    certPem: withRoot(certPem, text('ca.crt')),
    keyPem,
    certSetting: setting(ref, 'tls.crt'),
    keySetting: setting(ref, 'tls.key'),
    now,
  });
}

/** `tls.crt` followed by `ca.crt`'s last certificate unless `tls.crt` already ends with it. */
function withRoot(certPem: string, caPem: string | undefined): string {
  if (!caPem) return certPem;
  let chain: string[];
  let roots: string[];
  try {
    chain = certificatePems(certPem, 'tls.crt');
    roots = certificatePems(caPem, 'ca.crt');
  } catch {
    return certPem; // CertificateAuthority.load reports tls.crt; a bad ca.crt is not needed to sign
  }
  const root = roots[roots.length - 1];
  if (root === undefined || chain[chain.length - 1]?.trim() === root.trim()) return certPem;
  return joinPem([...chain, root]);
}

export interface CaSecretOptions {
  /** The issuer's API access (kube-access.ts): a GET of the Secret, then its watch. */
  json: KubeJson;
  ref: ObjectRef;
  logger: Logger;
  /** The watch's first retry delay (secret-watcher.ts); tests shorten it. */
  retryDelayMs?: number;
}

export interface CaSecret {
  /** The CA read at start. */
  ca: CertificateAuthority;
  /**
   * Watches the Secret from the version read at start; `onRotate` gets each valid new CA. An
   * invalid new version is logged and the CA in use is kept.
   */
  watch(onRotate: (ca: CertificateAuthority) => void): SecretWatch;
}

/**
 * Reads the CA Secret. A missing, forbidden or invalid Secret throws a ConfigError naming
 * CA_SECRET_NAME, which stops the issuer's start.
 */
export async function readCaSecret(opts: CaSecretOptions): Promise<CaSecret> {
  const { ref, logger } = opts;
  let secret: V1Secret;
  try {
    secret = await readSecret(opts.json, ref);
  } catch (e) {
    const status = kubeStatusCode(e);
    const why =
      status === 404
        ? 'does not exist'
        : status === 403
          ? `cannot be read: the issuer may not get it (RBAC): ${describeKubeError(e)}`
          : `cannot be read: ${describeKubeError(e)}`;
    throw new ConfigError(setting(ref), why);
  }
  const ca = await caFromSecret(secret, ref);
  const log = logger.child({ secret: `${ref.namespace}/${ref.name}` });
  return {
    ca,
    watch: (onRotate) =>
      watchSecret({
        json: opts.json,
        ref,
        logger,
        retryDelayMs: opts.retryDelayMs,
        resourceVersion: secret.metadata?.resourceVersion ?? '',
        onChange: async (next) => {
          try {
            const rotated = await caFromSecret(next, ref);
            onRotate(rotated);
            log.info(
              { ca: rotated.certificate.subject, notAfter: rotated.notAfter.toISOString() },
              'CA rotated from Secret',
            );
          } catch (e) {
            log.error(
              { err: { message: (e as Error).message } },
              'CA Secret changed but is invalid; keeping the CA in use',
            );
          }
        },
      }),
  };
}
