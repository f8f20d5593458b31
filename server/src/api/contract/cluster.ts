/**
 * Wire types of the cluster view (role `cluster-view`, docs/dashboard.md): every node's volumes as
 * read from the CertVolumeStatus objects. Shared by the server and the dashboard. Nothing here holds
 * key material or tokens: the objects hold neither.
 */
import type { StateCounts, VolumeStateName } from './types.js';

export type NodeHealth = 'ok' | 'failing' | 'stale';

/** One node as its status objects show it. */
export interface ClusterNode {
  nodeId: string;
  total: number;
  counts: StateCounts;
  health: NodeHealth;
  /** Why the node is stale or failing; empty when ok. */
  healthReason: string;
  /** Newest time any of the node's objects says something happened (issue, renewal, transition). */
  lastReportAt?: string;
  /** Volumes whose planned renewal is overdue by more than the grace: the driver did not report. */
  overdue: number;
  soonestExpiry?: string;
}

export interface ClusterIssuer {
  /** `BuiltIn`, or `CertManager:<kind>/<name>` (group omitted when cert-manager.io). */
  key: string;
  type: 'BuiltIn' | 'CertManager';
  name?: string;
  kind?: string;
  group?: string;
  volumes: number;
  failed: number;
}

export interface ClusterCa {
  subject: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  sha256Fingerprint: string;
}

/** The CA bundle the volumes are issued under; several CAs mean a rotation (old CA still trusted). */
export interface ClusterCaState {
  source: string;
  cas: ClusterCa[];
  rotating: boolean;
  /** `ok`, `expiring` (the newest CA ends within 30 days), `expired`, or `unknown` (no bundle configured or readable). */
  status: 'ok' | 'expiring' | 'expired' | 'unknown';
  error?: string;
}

export interface FailureGroup {
  namespace: string;
  /** The Ready condition's reason (`RenewalFailing`, `Expired`, `Pending`), or `Failed`. */
  reason: string;
  count: number;
  /** Up to 5 nodes concerned. */
  nodes: string[];
  /** One error message of the group, as the node wrote it. */
  example?: string;
  /** Up to 5 volumes, `namespace/name` of their status objects. */
  volumes: string[];
}

export interface ExpiryBucket {
  /** Bucket start (inclusive). */
  start: string;
  /** Certificates whose notAfter falls in the bucket. */
  expiring: number;
  /** Renewals planned (nextRenewal) in the bucket: the renewal waves. */
  renewals: number;
}

export interface ExpiryHistogram {
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: ExpiryBucket[];
  /** Certificates already expired (notAfter before `from`). */
  expired: number;
  /** notAfter after `to`. */
  later: number;
}

export interface ClusterOverview {
  generatedAt: string;
  /** Whether the initial list finished and the watch runs. */
  synced: boolean;
  total: number;
  counts: StateCounts;
  nodes: { total: number; stale: number; failing: number };
  namespaces: string[];
  issuers: ClusterIssuer[];
  ca: ClusterCaState;
  /** Volumes whose node is stale. */
  staleVolumes: number;
}

/** One volume, from its status object. */
export interface ClusterVolume {
  /** `namespace/name` of the CertVolumeStatus object; the id in URLs. */
  id: string;
  namespace: string;
  name: string;
  nodeId: string;
  pod: string;
  podUid: string;
  serviceAccount?: string;
  volumeId: string;
  issuer: string;
  state: VolumeStateName;
  stateReason: string;
  nodeStale: boolean;
  serialHex?: string;
  notBefore?: string;
  notAfter?: string;
  nextRenewalAt?: string;
  lastRenewal?: { at: string; kind: 'Issue' | 'Renew'; outcome: 'Success' | 'Failure'; error?: string };
  failures: number;
  ready: { status: string; reason: string; since: string };
}

export interface ClusterVolumeHistoryEntry {
  at: string;
  kind: 'Issue' | 'Renew';
  outcome: 'Success' | 'Failure';
  serialHex?: string;
  error?: string;
}

export interface ClusterVolumeDetails extends ClusterVolume {
  targetPath?: string;
  /** Renewals seen by this view's watch since it started, newest first (bounded). */
  history: ClusterVolumeHistoryEntry[];
}

export interface ClusterVolumePage {
  items: ClusterVolume[];
  total: number;
  offset: number;
  limit: number;
  nextOffset?: number;
  counts: StateCounts;
  generatedAt: string;
}

/** Server-sent events on `/api/v1/cluster/events`: a change summary, at most a few per second. */
export interface ClusterChangeEvent {
  /** Grows with every change the watch saw. */
  version: number;
  /** Ids of volumes changed since the previous event (at most 100; `truncated` when more). */
  changed: string[];
  deleted: string[];
  truncated: boolean;
  nodes: string[];
}

export const CLUSTER_SORT_KEYS = ['expiry', '-expiry', 'name', 'state', 'node'] as const;
export type ClusterSortKey = (typeof CLUSTER_SORT_KEYS)[number];
