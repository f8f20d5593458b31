import type { IssuerRef, PodInfo } from '../attributes/certificate-spec.js';

/** What the node asks an issuer to sign. Never contains the private key. */
export interface SignRequest {
  csrPem: string;
  pod: PodInfo;
  nodeId: string;
  volumeId: string;
  durationSeconds: number;
  isCA: boolean;
  usages: string[];
  /**
   * The pod's token for this issuer's audience. Set only by RoutingIssuer, from `tokens`, for the
   * built-in issuer. Secret.
   */
  token?: string | undefined;
  /**
   * Every token kubelet provided, by audience (CSIDriver `tokenRequests`; audience "" is the API
   * server's own). Secret. cert-manager mode acts as the pod with one of them.
   */
  tokens?: Readonly<Record<string, string>> | undefined;
  /** The volume's issuerRef: one with a `name` is signed by cert-manager (see RoutingIssuer). */
  issuerRef?: IssuerRef | undefined;
}

export interface SignedCertificate {
  certificatePem: string;
  /** Intermediates (leaf excluded), PEM; may be empty. */
  chainPem: string;
  caBundlePem: string;
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * The Issuer port: signs CSRs for the node. Errors are DomainErrors: UnavailableError when the
 * issuer cannot be reached (kubelet retries), InvalidArgument/PermissionDenied/FailedPrecondition
 * when it refuses.
 */
export interface Issuer {
  sign(req: SignRequest): Promise<SignedCertificate>;
  caBundle(): Promise<string>;
  close(): void;
}
