/**
 * The ports of cert-manager mode: what the node needs from the Kubernetes API to sign through a
 * cert-manager CertificateRequest. Adapters live in `server/src/kube/cert-manager/`; the pod is told
 * why it could not through the PodEventRecorder port (`kube/events/pod-events.port.ts`); tests use
 * in-memory fakes. Every method
 * throws DomainErrors: UnavailableError when the API server cannot be reached, PermissionDeniedError
 * when RBAC forbids the call, so callers can hand them to kubelet as they are.
 */
import { createHash } from 'node:crypto';

export interface IssuerRefName {
  name: string;
  kind: string;
  group: string;
}

/** What the node creates. The adapter base64-encodes `csrPem` into spec.request. */
export interface NewCertificateRequest {
  namespace: string;
  /** metadata.generateName, e.g. `web-1-` (the API server appends 5 random characters). */
  generateName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** metadata.ownerReferences: the pod (apiVersion v1, kind Pod), so the request goes with the pod. */
  owner: { name: string; uid: string };
  csrPem: string;
  issuerRef: IssuerRefName;
  /** Go duration, e.g. "168h0m0s". */
  duration: string;
  isCA: boolean;
  /** cert-manager spellings. */
  usages: string[];
  /** spec.username; cert-manager's webhook overwrites it with the authenticated requester. */
  username?: string | undefined;
}

export interface RequestCondition {
  type: string;
  status: string;
  reason?: string | undefined;
  message?: string | undefined;
}

/** A CertificateRequest as the node reads it (status.certificate and status.ca already PEM text). */
export interface CertificateRequestView {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  creationTimestamp?: Date | undefined;
  conditions: RequestCondition[];
  /** PEM chain: the leaf first, then intermediates. */
  certificate?: string | undefined;
  /** PEM of the issuing CA, when the issuer knows it. */
  ca?: string | undefined;
}

/** CertificateRequests as one identity (the pod's service account or the driver's own). */
export interface CertificateRequestClient {
  /** Creates the request; returns its server-chosen name. */
  create(req: NewCertificateRequest): Promise<{ name: string }>;
  /** Undefined when it does not exist (any more). */
  get(namespace: string, name: string): Promise<CertificateRequestView | undefined>;
}

/** What the driver's own account does: cleanup across namespaces. */
/**
 * This node's requests as a watch sees them (kube/cert-manager/certificate-request-watch.ts). While `synced()`,
 * `get` answers without an API call; `changed` resolves true on the next change of that request,
 * false after `ms` without one.
 */
export interface CertificateRequestUpdates {
  synced(): boolean;
  /** Undefined when the watch has not seen it (yet, or any more). */
  get(namespace: string, name: string): CertificateRequestView | undefined;
  changed(namespace: string, name: string, ms: number): Promise<boolean>;
}

export interface CertificateRequestJanitorClient {
  /** Every request carrying label `key=value`, in all namespaces. */
  listByLabel(key: string, value: string): Promise<CertificateRequestView[]>;
  /** Deletes one request; a missing one is not an error. */
  delete(namespace: string, name: string): Promise<void>;
}

/** The reasons of cert-manager mode's own Warning Events on a pod (recorded through the PodEventRecorder). */
export type PodWarningReason =
  'CertificateRequestDenied' | 'CertificateRequestFailed' | 'CertificateRequestTimeout';

export const LABEL_PREFIX = 'csi.k8s.cert-driver/';
/** Label: the node that created the request (its NODE_ID, hashed when not a valid label value). */
export const NODE_LABEL = `${LABEL_PREFIX}node`;
/** Label: the volume the request is for (hashed when longer than 63 characters, as kubelet's ids are). */
export const VOLUME_LABEL = `${LABEL_PREFIX}volume-id`;
/** Annotation: the full volume id, which the cleanup compares with the node's volumes. */
export const VOLUME_ANNOTATION = `${LABEL_PREFIX}volume-id`;

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/**
 * `value` when it is a valid label value (at most 63 characters of [A-Za-z0-9-_.], alphanumeric at
 * both ends), else the first 63 hex characters of its SHA-256. Deterministic, so a selector can be
 * built from the same input.
 */
export function labelValue(value: string): string {
  if (value.length <= 63 && LABEL_VALUE.test(value)) return value;
  return createHash('sha256').update(value).digest('hex').slice(0, 63);
}
