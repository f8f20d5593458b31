/**
 * The wire types of the read-only REST API (`/api/v1`), shared by the server and the dashboard.
 * Plain JSON: dates are RFC 3339 strings. No type here can carry key material, a token or a
 * password; the server builds every response from these shapes field by field.
 */

/** What an operator needs to know about a volume, in order of urgency. */
export const VOLUME_STATES = ['failed', 'expiring', 'renewing', 'healthy'] as const;
export type VolumeStateName = (typeof VOLUME_STATES)[number];

export const STATE_LABELS: Record<VolumeStateName, string> = {
  healthy: 'Healthy',
  renewing: 'Renewing',
  expiring: 'Expiring soon',
  failed: 'Failed',
};

/**
 * `published`: mounted with a certificate. `publishing`: the first certificate is being issued.
 * `publish-failing`: kubelet's NodePublishVolume fails and is being retried; nothing is mounted.
 */
export type VolumePhase = 'publishing' | 'published' | 'publish-failing';

export type StateCounts = Record<VolumeStateName, number>;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
}

export interface CertificateTimes {
  serialHex: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

/** One row of the volume list. */
export interface VolumeSummary {
  volumeId: string;
  nodeId: string;
  pod: PodRef;
  targetPath: string;
  phase: VolumePhase;
  state: VolumeStateName;
  /** One line saying why the state is what it is. */
  stateReason: string;
  /** "built-in" or `<kind>.<group>/<name>` of a cert-manager issuer. */
  issuer: string;
  /** File names in the volume (names only, never contents). */
  files: { certificate: string; privateKey: string; ca?: string; pkcs12?: string };
  certificate?: CertificateTimes;
  nextRenewalAt?: string;
  autoRenew: boolean;
  /** Consecutive failed renewals. */
  failures: number;
  lastError?: string;
  /** Successful renewals in the kept history. */
  renewals: number;
  lastRenewalAt?: string;
  createdAt: string;
}

export interface HistoryEntry {
  at: string;
  kind: 'issue' | 'renew' | 'publish';
  outcome: 'success' | 'failure';
  serialHex?: string;
  error?: string;
}

/** What the certificate file in the volume says about itself. */
export interface CertificateDetails {
  subject: string;
  commonName?: string;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emails: string[];
  issuer: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  keyAlgorithm: string;
  /** RSA modulus bits, ECDSA curve bits, 0 for Ed25519. */
  keySize: number;
  sha256Fingerprint: string;
  isCA: boolean;
  usages: string[];
}

/** The requested certificate, from the volume attributes (secrets removed). */
export interface RequestedCertificate {
  commonName?: string;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
  usages: string[];
  isCA: boolean;
  durationSeconds: number;
  renewBeforeSeconds?: number;
  key: { algorithm: string; size: number; encoding: string };
  reusePrivateKey: boolean;
  pkcs12: boolean;
  fsGroup?: number;
}

export interface VolumeDetails extends VolumeSummary {
  certificateDetails?: CertificateDetails;
  /** Why certificateDetails is missing, when it is. */
  certificateError?: string;
  requested?: RequestedCertificate;
  /** Volume attributes as kubelet sent them; passwords are replaced by "[REDACTED]". */
  attributes: Record<string, string>;
  /** Newest last. */
  history: HistoryEntry[];
}

export interface SoonestExpiry {
  volumeId: string;
  pod: PodRef;
  notAfter: string;
}

export interface VolumePage {
  items: VolumeSummary[];
  /** Volumes matching every filter. */
  total: number;
  offset: number;
  limit: number;
  /** Present when more items follow. */
  nextOffset?: number;
  /** Counts by state of the volumes matching every filter except `state`. */
  counts: StateCounts;
  soonestExpiry?: SoonestExpiry;
  generatedAt: string;
}

export interface NodeSummary {
  nodeId: string;
  total: number;
  counts: StateCounts;
  soonestExpiry?: SoonestExpiry;
}

export interface ClusterView {
  /** Where the view comes from: this node alone, or every node's status objects. */
  source: 'local-node' | 'status-objects';
  /** False when nodes may be missing from the view. */
  complete: boolean;
  note: string;
  nodes: NodeSummary[];
  totals: StateCounts;
  soonestExpiry?: SoonestExpiry;
  generatedAt: string;
}

export interface IssuerCheck {
  address: string;
  reachable?: boolean;
  checkedAt?: string;
  error?: string;
}

export interface NodeInfoView extends NodeSummary {
  driverName: string;
  version: string;
  platform: string;
  startedAt: string;
  ready: boolean;
  issuer: IssuerCheck;
  now: string;
}

export interface HealthView {
  status: 'ok' | 'unavailable';
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/** Server-sent events on `/api/v1/events`. */
export type VolumeEvent =
  { type: 'upsert'; volume: VolumeSummary } | { type: 'delete'; volumeId: string; nodeId: string };

export interface ApiError {
  statusCode: number;
  error: string;
  message: string;
}
