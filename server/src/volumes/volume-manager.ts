import type { Logger } from '../common/logger.js';
import { AlreadyExistsError, InvalidArgumentError } from '../common/errors.js';
import type { PathRules, VolumeStore } from '@csi-cert-driver/platform-contract';
import type { Issuer } from '../issuer-client/issuer.port.js';
import { parsePodInfo, parseVolumeAttributes, isEphemeral, type SpiffeMode } from '../attributes/index.js';
import type { StateStore } from './state-store.port.js';
import type { VolumeState } from './volume-state.js';
import type { VolumeFailure } from './status-reporter.port.js';
import type { KeySource } from './volume-certificates.js';
import { VolumeLifecycle } from './volume-lifecycle.js';
import { sameKeptTokens } from './kept-tokens.js';
import {
  persistentAttributes,
  sameAttributes,
  type PublishRequest,
  type UnpublishRequest,
} from './publish-request.js';

export interface VolumeManagerDeps {
  platform: VolumeStore & PathRules;
  issuer: Issuer;
  store: StateStore;
  keys: KeySource;
  logger: Logger;
  nodeId: string;
  clusterDomain: string;
  volumeSizeBytes: number;
  /** Called whenever a volume's state changes (published, renewed, removed). */
  onChange?: (volumeId: string, state: VolumeState | undefined) => void;
  /** CERT_MANAGER_ENABLED: volumes with issuer-name are accepted (and signed by cert-manager). */
  certManager?: boolean | undefined;
  /** SPIFFE_TRUST_DOMAIN: every volume gets its pod's SPIFFE SVID (attributes/spiffe-mode.ts). */
  spiffe?: SpiffeMode | undefined;
  /** Called once per failed publish, after the rollback (StatusReporter.operationFailed). */
  onFailure?: (failure: VolumeFailure) => void;
  /** How long a CSI request waits for background work on its volume (VolumeLocks). */
  backgroundWaitMs?: number | undefined;
  /** Audiences whose tokens a volume keeps in its state (VolumeLifecycleDeps, ADR 22). */
  keptTokenAudiences?: readonly string[] | undefined;
}

/**
 * Publishes and unpublishes certificate volumes: creates and removes their storage, and hands the
 * certificate and its files to the volume's `lifecycle`, which renewal and the trust-bundle rewrite
 * share. Publish is idempotent and all-or-nothing: on any failure the mount, files and state it
 * created are removed before the error is rethrown.
 */
export class VolumeManager {
  /** Locks, tokens and the one issued → state → files path of every volume. */
  readonly lifecycle: VolumeLifecycle;

  constructor(private readonly d: VolumeManagerDeps) {
    this.lifecycle = new VolumeLifecycle(d);
  }

  async publish(req: PublishRequest): Promise<VolumeState> {
    const reason = this.d.platform.checkTargetPath(req.targetPath);
    if (reason) throw new InvalidArgumentError('target_path', reason);
    isEphemeral(req.volumeContext);
    const pod = parsePodInfo(req.volumeContext);
    const spec = parseVolumeAttributes({
      volumeContext: req.volumeContext,
      pod,
      clusterDomain: this.d.clusterDomain,
      volumeMountGroup: req.volumeMountGroup || undefined,
      checkFileName: (n) => this.d.platform.checkFileName(n),
      spiffe: this.d.spiffe,
    });
    if (spec.issuer.name !== undefined && !this.d.certManager) {
      throw new InvalidArgumentError(
        'csi.k8s.cert-driver/issuer-name',
        'cert-manager issuers are not enabled on this driver (CERT_MANAGER_ENABLED=false); remove issuer-name/kind/group to use the built-in issuer',
      );
    }
    const attributes = persistentAttributes(req.volumeContext);
    const tokens = req.tokens;
    const log = this.d.logger.child({ volumeId: req.volumeId, pod: `${pod.namespace}/${pod.name}` });

    return this.lifecycle.withLock(req.volumeId, async () => {
      const existing = await this.d.store.get(req.volumeId);
      if (existing) {
        const done = await this.republish(existing, req, attributes, log);
        if (done) {
          this.lifecycle.rememberTokens(req.volumeId, tokens);
          return this.keepTokens(done, tokens);
        }
      }
      // Where a fresh publish may mount, asked before anything is written: a refused target leaves
      // no state, no directory and no mount behind.
      const refused = this.d.platform.checkPublishTarget({
        volumeId: req.volumeId,
        targetPath: req.targetPath,
        podUid: pod.uid,
      });
      if (refused) throw new InvalidArgumentError('target_path', refused);
      const now = new Date().toISOString();
      let state: VolumeState = {
        version: 1,
        volumeId: req.volumeId,
        targetPath: req.targetPath,
        nodeId: this.d.nodeId,
        pod,
        attributes,
        spec,
        phase: 'publishing',
        createdAt: now,
        failures: 0,
        history: [],
        tokens: this.lifecycle.tokensToKeep(tokens),
      };
      // The key, the CSR and the issuer round trip start first; while the issuer signs, the
      // "publishing" marker is written, then the volume is mounted. They wait for the next turn of
      // the event loop so the request is on its way to the issuer before their (synchronous, on
      // tmpfs) file and mount calls run (ADR 14). The marker lets a restart find and remove what a
      // killed publish mounted, so it must be in place before anything is mounted; it only has to
      // survive `kill -9`, not a power cut (which takes the tmpfs with it), so it is written without
      // fsync (ADR 12).
      const issuing = this.lifecycle.issue({ volumeId: req.volumeId, spec, pod, tokens });
      issuing.catch(() => undefined);
      const marked = state;
      let created = false;
      const mounted = nextTurn()
        .then(() => this.d.store.put(marked, { durable: false }))
        .then(() =>
          this.d.platform.createVolume({
            volumeId: req.volumeId,
            targetPath: req.targetPath,
            sizeBytes: this.d.volumeSizeBytes,
            fsGroup: spec.fsGroup,
          }),
        )
        .then(() => {
          created = true;
        });
      mounted.catch(() => undefined);
      try {
        const issued = await issuing;
        await mounted;
        // The one durable write of a publish, overlapped with the file writes; OK is answered only
        // once both are done.
        state = await this.lifecycle.install(state, issued, 'issue');
      } catch (e) {
        log.warn({ err: errorSummary(e) }, 'publish failed; rolling back');
        // Roll back only once the mount is done (install has settled its own writes).
        await Promise.allSettled([mounted]);
        // Undo only what this call did: a createVolume that failed has undone its own steps, so
        // then only the marker goes; the mount is removed only when this call made it.
        if (created) await this.rollback(req.volumeId, req.targetPath, log);
        else await this.dropMarker(req.volumeId, log);
        this.d.onFailure?.({ operation: 'publish', volumeId: req.volumeId, pod, error: e });
        throw e;
      }
      this.lifecycle.rememberTokens(req.volumeId, tokens);
      log.info(
        { serial: state.certificate?.serialHex, notAfter: state.certificate?.notAfter },
        'volume published',
      );
      this.d.onChange?.(req.volumeId, state);
      return state;
    });
  }

  /**
   * Handles a publish for a volume we already know. Returns the state when nothing more is needed
   * (kubelet's republish), undefined after clearing a half-done or broken volume so the caller
   * publishes it afresh.
   */
  private async republish(
    existing: VolumeState,
    req: PublishRequest,
    attributes: Record<string, string>,
    log: Logger,
  ): Promise<VolumeState | undefined> {
    if (existing.phase === 'published') {
      if (existing.targetPath !== req.targetPath) {
        throw new AlreadyExistsError(`volume ${req.volumeId} is already published at ${existing.targetPath}`);
      }
      if (!sameAttributes(existing.attributes, attributes)) {
        throw new AlreadyExistsError(
          `volume ${req.volumeId} is already published with different volume attributes`,
        );
      }
      if (await this.d.platform.isPublished({ volumeId: req.volumeId, targetPath: req.targetPath }))
        return existing;
      log.warn('volume state exists but its mount is gone; publishing again');
    }
    await this.rollback(existing.volumeId, existing.targetPath, log);
    return undefined;
  }

  /**
   * Unpublishes a volume at the target path its state binds it to. A (volume_id, target_path) pair
   * that is not ours (no state for the id, or a state at another path) touches nothing and succeeds,
   * as the CSI spec asks for a volume that is not published there: what sits at that path belongs to
   * another volume or to nobody the driver knows.
   */
  async unpublish(req: UnpublishRequest): Promise<void> {
    const reason = this.d.platform.checkTargetPath(req.targetPath);
    if (reason) throw new InvalidArgumentError('target_path', reason);
    await this.lifecycle.withLock(req.volumeId, async () => {
      const state = await this.d.store.get(req.volumeId);
      if (!state || state.targetPath !== req.targetPath) {
        this.d.logger.info(
          { volumeId: req.volumeId, targetPath: req.targetPath, publishedAt: state?.targetPath },
          'unpublish of a volume not published at this path; nothing to do',
        );
        return;
      }
      await this.d.platform.removeVolume({ volumeId: req.volumeId, targetPath: state.targetPath });
      await this.d.store.delete(req.volumeId);
      this.lifecycle.forget(req.volumeId);
      this.d.logger.info(
        { volumeId: req.volumeId, pod: `${state.pod.namespace}/${state.pod.name}` },
        'volume unpublished',
      );
      this.d.onChange?.(req.volumeId, undefined);
    });
  }

  /**
   * Keeps a republish's fresh tokens in the state (not durable: the state tmpfs only has to survive
   * a restart of the driver, ADR 12); kubelet's cached tokens, unchanged, cost no write.
   */
  private async keepTokens(
    state: VolumeState,
    tokens: Readonly<Record<string, string>> | undefined,
  ): Promise<VolumeState> {
    const kept = this.lifecycle.tokensToKeep(tokens);
    if (kept === undefined || sameKeptTokens(kept, state.tokens)) return state;
    const next = { ...state, tokens: kept };
    await this.d.store.put(next, { durable: false });
    return next;
  }

  /** Removes the "publishing" marker of a publish that mounted nothing. Never throws. */
  private async dropMarker(volumeId: string, log: Logger): Promise<void> {
    try {
      await this.d.store.delete(volumeId);
    } catch (e) {
      log.error({ err: errorSummary(e) }, 'could not remove the state of a failed publish');
    }
  }

  /** Removes whatever a publish left behind. Never throws: a failure is logged and the state kept for the next try. */
  private async rollback(volumeId: string, targetPath: string, log: Logger): Promise<void> {
    try {
      await this.d.platform.removeVolume({ volumeId, targetPath });
      await this.d.store.delete(volumeId);
    } catch (e) {
      log.error({ err: errorSummary(e) }, 'rollback failed; state kept so a later call can finish it');
    }
  }
}

/** Resolves in the check phase of the event loop, after the I/O this turn has queued. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** An error as a log field: message and code only, never a stack with request data. */
export function errorSummary(e: unknown): { message: string; code?: unknown } {
  if (e instanceof Error) return { message: e.message, code: (e as { code?: unknown }).code };
  return { message: String(e) };
}
