/**
 * The parts of a cert-manager.io/v1 CertificateRequest the approver reads and writes, and helpers
 * for its Approved/Denied conditions. Objects come from the API server as JSON; every field is
 * optional here and checked where it is used.
 */

export const CR_GROUP = 'cert-manager.io';
export const CR_VERSION = 'v1';
export const CR_PLURAL = 'certificaterequests';

export interface IssuerRef {
  name: string;
  kind: string;
  group: string;
}

export interface CrCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface CertificateRequest {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    [k: string]: unknown;
  };
  spec?: {
    /** base64 of the PEM CSR. */
    request?: string;
    issuerRef?: { name?: string; kind?: string; group?: string };
    duration?: string;
    isCA?: boolean;
    usages?: string[];
    username?: string;
    uid?: string;
    groups?: string[];
    [k: string]: unknown;
  };
  status?: { conditions?: CrCondition[]; [k: string]: unknown };
}

/** `namespace/name`. */
export function keyOf(cr: CertificateRequest): string {
  return `${cr.metadata?.namespace ?? ''}/${cr.metadata?.name ?? ''}`;
}

/**
 * Whether `cr` asks the configured issuer. As cert-manager, an empty kind means Issuer and an empty
 * group means cert-manager.io.
 */
export function targetsIssuer(cr: CertificateRequest, ref: IssuerRef): boolean {
  const r = cr.spec?.issuerRef;
  return (
    r?.name === ref.name &&
    (r.kind || 'Issuer') === (ref.kind || 'Issuer') &&
    (r.group || CR_GROUP) === (ref.group || CR_GROUP)
  );
}

/** The existing decision (`Approved` or `Denied` with status True), if any. */
export function decisionOf(cr: CertificateRequest): 'Approved' | 'Denied' | undefined {
  for (const c of cr.status?.conditions ?? []) {
    if ((c.type === 'Approved' || c.type === 'Denied') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** A copy of `cr` with the condition of `type` set (replacing one of the same type). */
export function withCondition(cr: CertificateRequest, condition: CrCondition): CertificateRequest {
  const others = (cr.status?.conditions ?? []).filter((c) => c.type !== condition.type);
  return { ...cr, status: { ...cr.status, conditions: [...others, condition] } };
}
