import type { CertificateSpec, PodInfo } from '../attributes/certificate-spec.js';
import type { KeptTokens } from './kept-tokens.js';

export type VolumePhase = 'publishing' | 'published';

/** One entry of a volume's issuance history, newest last. Never holds key material. */
export interface HistoryEvent {
  at: string;
  kind: 'issue' | 'renew';
  outcome: 'success' | 'failure';
  serialHex?: string | undefined;
  error?: string | undefined;
}

export interface CertificateMeta {
  serialHex: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
}

/**
 * Everything the node persists about one volume, enough to recover it after a restart. Written
 * atomically by the StateStore (0600). Holds no private key; the only secrets are `tokens` and a
 * PKCS#12 password in `spec`, which the logger redacts and the API never shows.
 */
export interface VolumeState {
  version: 1;
  volumeId: string;
  targetPath: string;
  nodeId: string;
  pod: PodInfo;
  /** The volume attributes kubelet sent, kubelet's token map removed; compared on republish. */
  attributes: Record<string, string>;
  spec: CertificateSpec;
  phase: VolumePhase;
  createdAt: string;
  certificate?: CertificateMeta | undefined;
  nextRenewalAt?: string | undefined;
  /** Consecutive failed renewals; drives backoff. */
  failures: number;
  lastError?: string | undefined;
  history: HistoryEvent[];
  /**
   * The pod's tokens for the audiences the node sends to (the issuer's; the API server's in
   * cert-manager `pod` mode), from the latest publish or republish, with their expiry: renewals after
   * a node restart use them (ADR 22). Secret: never logged (the logger redacts `tokens`), never in
   * the API; removed with the state.
   */
  tokens?: KeptTokens | undefined;
}

export const HISTORY_LIMIT = 50;

/** Appends an event, keeping the newest HISTORY_LIMIT. */
export function withEvent(state: VolumeState, ev: HistoryEvent): VolumeState {
  const history = [...state.history, ev];
  return { ...state, history: history.slice(-HISTORY_LIMIT) };
}
