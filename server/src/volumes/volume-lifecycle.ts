import type { VolumeFile, VolumeStore } from '@csi-cert-driver/platform-contract';
import type { CertificateSpec, PodInfo } from '../attributes/certificate-spec.js';
import type { Issuer, SignedCertificate } from '../issuer-client/issuer.port.js';
import type { KeyPair } from '../pki/index.js';
import { tokensToKeep, usableKeptTokens, type KeptTokens } from './kept-tokens.js';
import { renewalTime } from './renewal-policy.js';
import type { StateStore } from './state-store.port.js';
import { issueVolumeCertificate, type IssuedVolume, type KeySource } from './volume-certificates.js';
import { VolumeLocks, type LockHolder } from './volume-locks.js';
import { withEvent, type VolumeState } from './volume-state.js';

export interface VolumeLifecycleDeps {
  platform: Pick<VolumeStore, 'readFile' | 'writeFiles'>;
  issuer: Issuer;
  store: StateStore;
  keys: KeySource;
  nodeId: string;
  /** How long a CSI request waits for background work on its volume (VolumeLocks). */
  backgroundWaitMs?: number | undefined;
  /**
   * Audiences whose tokens a volume keeps in its state for renewals after a restart (ADR 22): the
   * node's ISSUER_TOKEN_AUDIENCE, and CERT_MANAGER_TOKEN_AUDIENCE in cert-manager `pod` mode.
   */
  keptTokenAudiences?: readonly string[] | undefined;
}

export interface IssueRequest {
  volumeId: string;
  spec: CertificateSpec;
  pod: PodInfo;
  /**
   * kubelet's tokens by audience from this request (its `secrets`, else its volume context); without
   * them the ones remembered from the volume's last publish.
   */
  tokens?: Readonly<Record<string, string>> | undefined;
  /** Reuse this key (reuse-private-key) instead of taking a fresh one. */
  key?: KeyPair | undefined;
  /** The tokens kept in the volume's state: used, unexpired, when neither of the above has any. */
  kept?: KeptTokens | undefined;
}

/**
 * The one writer of a volume's files and certificate state. Publish (`VolumeManager`), renewal
 * (`RenewalService`) and the trust-bundle rewrite (`BundleDistributor`) all go through it: it holds
 * the per-volume lock, the service-account tokens kubelet sent (in memory, and those of the kept
 * audiences in the volume's state with their expiry, ADR 22; never logged), and the single path from a signed certificate to the volume's state and files
 * (`install`). Creating and removing the volume's storage stays with `VolumeManager`.
 */
export class VolumeLifecycle {
  private readonly locks: VolumeLocks;
  private readonly tokenSets = new Map<string, Readonly<Record<string, string>>>();

  constructor(private readonly d: VolumeLifecycleDeps) {
    this.locks = new VolumeLocks(d.backgroundWaitMs);
  }

  /** Runs `fn` holding the volume's lock; see `VolumeLocks.with` for who waits and who is ABORTED. */
  withLock<T>(volumeId: string, fn: () => Promise<T>, holder: LockHolder = 'request'): Promise<T> {
    return this.locks.with(volumeId, fn, holder);
  }

  /** True while an operation holds the volume's lock (background work skips such a volume). */
  isBusy(volumeId: string): boolean {
    return this.locks.isHeld(volumeId);
  }

  /** Keeps the tokens of a successful publish for later renewals; absent ones leave the old ones. */
  rememberTokens(volumeId: string, tokens: Readonly<Record<string, string>> | undefined): void {
    if (tokens) this.tokenSets.set(volumeId, tokens);
  }

  /** Drops what is remembered about an unpublished volume. */
  forget(volumeId: string): void {
    this.tokenSets.delete(volumeId);
  }

  /** The tokens of `tokens` a volume keeps in its state (the kept audiences), with their expiry. */
  tokensToKeep(tokens: Readonly<Record<string, string>> | undefined): KeptTokens | undefined {
    return tokensToKeep(tokens, this.d.keptTokenAudiences ?? []);
  }

  /**
   * Key → CSR → issuer → the volume's rendered file set (nothing is written yet). Tokens: the
   * request's, else the ones remembered since the last publish, else the unexpired ones kept in the
   * state (after a restart). An expired kept token is not sent; when the issuer then refuses, the
   * error says that the renewal waits for kubelet's next republish.
   */
  async issue(req: IssueRequest): Promise<IssuedVolume> {
    let tokens = req.tokens ?? this.tokenSets.get(req.volumeId);
    let expired: { audience: string; expiresAt: string }[] = [];
    if (tokens === undefined && req.kept !== undefined)
      ({ tokens, expired } = usableKeptTokens(req.kept, Date.now()));
    try {
      return await issueVolumeCertificate(this.d.issuer, this.d.keys, {
        spec: req.spec,
        pod: req.pod,
        nodeId: this.d.nodeId,
        volumeId: req.volumeId,
        tokens,
        key: req.key,
      });
    } catch (e) {
      if (expired.length > 0 && e instanceof Error) {
        const which = expired.map((x) => `"${x.audience}" expired at ${x.expiresAt}`).join(', ');
        e.message += ` (the token kept for audience ${which}; renewal waits for kubelet's next republish)`;
      }
      throw e;
    }
  }

  /**
   * Issued → state → files: records the new certificate in the volume's state (one durable write)
   * while its files are swapped in; resolves with the new state once both are done. On failure both
   * writes have settled before it throws, and the files on disk are still the previous set.
   */
  async install(state: VolumeState, issued: IssuedVolume, kind: 'issue' | 'renew'): Promise<VolumeState> {
    const next = withCertificate(state, issued.signed, kind);
    // The state may land before the files: a restart keeps a "published" volume only when its
    // mount and file set are there too (recoverVolumes → isPublished), ADR 12.
    const durable = this.d.store.put(next);
    durable.catch(() => undefined);
    try {
      await this.d.platform.writeFiles(state.volumeId, issued.files);
    } catch (e) {
      await Promise.allSettled([durable]);
      throw e;
    }
    await durable;
    return next;
  }

  /** Replaces the volume's file set without a new certificate (the trust-bundle rewrite). */
  writeFiles(volumeId: string, files: VolumeFile[]): Promise<void> {
    return this.d.platform.writeFiles(volumeId, files);
  }

  /** One file of the volume's current set, or undefined. */
  readFile(volumeId: string, name: string): Promise<Uint8Array | undefined> {
    return this.d.platform.readFile(volumeId, name);
  }
}

/** The state of a volume that now holds `signed`: published, failures cleared, next renewal set. */
export function withCertificate(
  state: VolumeState,
  signed: SignedCertificate,
  kind: 'issue' | 'renew',
): VolumeState {
  const at = new Date().toISOString();
  return withEvent(
    {
      ...state,
      phase: 'published',
      certificate: {
        serialHex: signed.serialHex,
        notBefore: signed.notBefore.toISOString(),
        notAfter: signed.notAfter.toISOString(),
        issuedAt: at,
      },
      nextRenewalAt: state.spec.disableAutoRenew
        ? undefined
        : renewalTime(signed.notBefore, signed.notAfter, state.spec.renewBeforeSeconds).toISOString(),
      failures: 0,
      lastError: undefined,
    },
    { at, kind, outcome: 'success', serialHex: signed.serialHex },
  );
}
