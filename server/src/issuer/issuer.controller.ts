import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from '../common/logger.js';
import { InvalidArgumentError } from '../common/errors.js';
import { parseCsrOrUndefined } from '../pki/csr.js';
import type { CallerAuthorizer } from './auth/caller-authorizer.js';
import type { CertificateAuthority } from './certificate-authority.js';
import type { IssuanceLog } from './issuance-log.js';
import type { SigningPolicy } from './signing-policy.js';
import { signCsr } from './signer.js';

export const ISSUER_STATE = Symbol('IssuerState');

/** What the issuer serves with; `ca` is swapped in place when the CA is reloaded. */
export interface IssuerState {
  ca: CertificateAuthority;
  policy: SigningPolicy;
  log: IssuanceLog;
  logger: Logger;
  /** Decides who may sign (ISSUER_AUTH=kubernetes); undefined = every caller is trusted (ISSUER_AUTH=none). */
  authorizer?: CallerAuthorizer | undefined;
  /** The trust bundle during a CA rotation (old and new CA); undefined = the signing CA's own bundle. */
  bundle?: (() => string) | undefined;
}

interface SignCertificateRequestWire {
  csr_pem?: string;
  pod?: { name?: string; namespace?: string; uid?: string; service_account?: string } | null;
  node_id?: string;
  volume_id?: string;
  duration_seconds?: string;
  is_ca?: boolean;
  usages?: string[];
  token?: string;
}

/**
 * Size limits of a SignCertificate request (docs/security.md, "Request size limits"), checked before
 * anything parses or logs a field: names as Kubernetes bounds them, a CSR of at most 64 KiB (an
 * RSA-8192 CSR with 100 SANs is ~5 KiB), a token of at most 16 KiB.
 */
export const SIGN_REQUEST_LIMITS = {
  name: 253,
  uid: 64,
  csrPem: 64 * 1024,
  token: 16 * 1024,
  usages: 32,
  usage: 64,
} as const;

function required(v: string | undefined, field: string, max: number = SIGN_REQUEST_LIMITS.name): string {
  if (!v) throw new InvalidArgumentError(field, 'is required');
  return bounded(v, field, max);
}

function bounded(v: string, field: string, max: number): string {
  if (v.length > max) throw new InvalidArgumentError(field, `is ${v.length} characters long; at most ${max}`);
  return v;
}

/**
 * The certificate service (proto/issuer.proto). The authorizer, when set, checks the caller's pod
 * token first; with ISSUER_AUTH=none every caller is trusted to speak for the pod it names. Each
 * signature and refusal is logged as an audit line (never the token).
 */
@Controller()
export class IssuerController {
  constructor(@Inject(ISSUER_STATE) private readonly s: IssuerState) {}

  @GrpcMethod('CertificateIssuer', 'SignCertificate')
  async signCertificate(req: SignCertificateRequestWire) {
    const pod = {
      name: required(req.pod?.name, 'pod.name'),
      namespace: required(req.pod?.namespace, 'pod.namespace'),
      uid: required(req.pod?.uid, 'pod.uid', SIGN_REQUEST_LIMITS.uid),
      serviceAccount: bounded(
        req.pod?.service_account ?? '',
        'pod.service_account',
        SIGN_REQUEST_LIMITS.name,
      ),
    };
    const usages = req.usages ?? [];
    if (usages.length > SIGN_REQUEST_LIMITS.usages) {
      throw new InvalidArgumentError(
        'usages',
        `has ${usages.length} entries; at most ${SIGN_REQUEST_LIMITS.usages}`,
      );
    }
    for (const u of usages) bounded(u, 'usages', SIGN_REQUEST_LIMITS.usage);
    const token = bounded(req.token ?? '', 'token', SIGN_REQUEST_LIMITS.token);
    const durationSeconds = Number(req.duration_seconds ?? 0);
    if (!Number.isSafeInteger(durationSeconds) || durationSeconds <= 0) {
      throw new InvalidArgumentError('duration_seconds', 'must be a positive number of seconds');
    }
    const signReq = {
      csrPem: required(req.csr_pem, 'csr_pem', SIGN_REQUEST_LIMITS.csrPem),
      durationSeconds,
      isCA: req.is_ca === true,
      usages,
      pod,
      nodeId: required(req.node_id, 'node_id'),
      volumeId: required(req.volume_id, 'volume_id'),
    };
    const audit = {
      pod: `${pod.namespace}/${pod.name}`,
      podUid: pod.uid,
      node: signReq.nodeId,
      volumeId: signReq.volumeId,
    };
    try {
      // Parsed and verified once for the authorizer and the policy (ADR 24). A CSR that does not
      // parse is left to them: they refuse it where they always did (after the token check).
      const csr = parseCsrOrUndefined(signReq.csrPem);
      const caller = await this.s.authorizer?.authorize({ ...signReq, csr, token });
      const signed = await signCsr(this.s.ca, this.s.policy, { ...signReq, csr });
      this.s.log.recordIssued(signReq, signed);
      this.s.logger.info(
        {
          ...audit,
          caller: caller?.username,
          serial: signed.serialHex,
          notAfter: signed.notAfter.toISOString(),
          notices: signed.notices,
        },
        'certificate signed',
      );
      return {
        certificate_pem: signed.certificatePem,
        chain_pem: signed.chainPem,
        ca_bundle_pem: this.s.bundle?.() ?? signed.caBundlePem,
        serial_hex: signed.serialHex,
        not_before_unix_ms: String(signed.notBefore.getTime()),
        not_after_unix_ms: String(signed.notAfter.getTime()),
      };
    } catch (e) {
      this.s.logger.warn({ ...audit, err: { message: (e as Error).message } }, 'signing refused');
      throw e;
    }
  }

  @GrpcMethod('CertificateIssuer', 'GetCABundle')
  getCABundle() {
    return { ca_bundle_pem: this.s.bundle?.() ?? this.s.ca.caBundlePem };
  }
}
