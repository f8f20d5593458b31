import { createPublicKey } from 'node:crypto';
import type { Logger } from '../common/logger.js';
import type { StateStore } from '../volumes/state-store.port.js';
import { withEvent, type VolumeState } from '../volumes/volume-state.js';
import type { VolumeFailure } from '../volumes/status-reporter.port.js';
import type { VolumeLifecycle } from '../volumes/volume-lifecycle.js';
import { errorSummary } from '../volumes/volume-manager.js';
import { backoffMs } from '../volumes/renewal-policy.js';
import { decodePrivateKey } from '../pki/index.js';
import { RenewalScheduler } from './scheduler.js';

export interface RenewalDeps {
  /** The volumes' one writer: lock, tokens, issue and install. */
  volumes: VolumeLifecycle;
  store: StateStore;
  logger: Logger;
  concurrency?: number;
  onChange?: (volumeId: string, state: VolumeState | undefined) => void;
  /** Called once per failed renewal (StatusReporter.operationFailed). */
  onFailure?: (failure: VolumeFailure) => void;
}

/**
 * Renews certificates when due. A failed renewal keeps the current (still valid) files, records
 * the failure in the volume's history and retries with capped exponential backoff.
 */
export class RenewalService {
  readonly scheduler: RenewalScheduler;

  constructor(private readonly d: RenewalDeps) {
    this.scheduler = new RenewalScheduler((id) => this.renew(id), {
      concurrency: d.concurrency ?? 8,
      onError: (id, e) => d.logger.error({ volumeId: id, err: errorSummary(e) }, 'renewal handler failed'),
    });
  }

  /** Schedules a volume according to its state; volumes with auto-renew off are not scheduled. */
  track(state: VolumeState): void {
    if (state.phase !== 'published' || state.spec.disableAutoRenew || !state.nextRenewalAt) {
      this.scheduler.cancel(state.volumeId);
      return;
    }
    this.scheduler.schedule(state.volumeId, new Date(state.nextRenewalAt));
  }

  untrack(volumeId: string): void {
    this.scheduler.cancel(volumeId);
  }

  stop(): void {
    this.scheduler.stop();
  }

  /** Renews one volume now. Busy volumes are retried a second later; vanished ones are dropped. */
  async renew(volumeId: string): Promise<void> {
    if (this.d.volumes.isBusy(volumeId)) {
      this.scheduler.schedule(volumeId, new Date(Date.now() + 1000));
      return;
    }
    await this.d.volumes.withLock(
      volumeId,
      async () => {
        const state = await this.d.store.get(volumeId);
        if (!state || state.phase !== 'published') return;
        const log = this.d.logger.child({ volumeId, pod: `${state.pod.namespace}/${state.pod.name}` });
        let next: VolumeState;
        try {
          const key = state.spec.reusePrivateKey ? await this.currentKey(state) : undefined;
          const issued = await this.d.volumes.issue({
            volumeId,
            spec: state.spec,
            pod: state.pod,
            key,
            kept: state.tokens,
          });
          next = await this.d.volumes.install(state, issued, 'renew');
          log.info(
            { serial: issued.signed.serialHex, notAfter: next.certificate?.notAfter },
            'certificate renewed',
          );
        } catch (e) {
          const failures = state.failures + 1;
          const message = errorSummary(e).message;
          next = withEvent(
            {
              ...state,
              failures,
              lastError: message,
              nextRenewalAt: new Date(Date.now() + backoffMs(failures)).toISOString(),
            },
            { at: new Date().toISOString(), kind: 'renew', outcome: 'failure', error: message },
          );
          log.warn(
            { err: errorSummary(e), failures, retryAt: next.nextRenewalAt },
            'renewal failed; current certificate kept',
          );
          this.d.onFailure?.({ operation: 'renew', volumeId, pod: state.pod, error: e });
          await this.d.store.put(next);
        }
        this.track(next);
        this.d.onChange?.(volumeId, next);
      },
      'background',
    );
  }

  private async currentKey(state: VolumeState) {
    const pem = await this.d.volumes.readFile(state.volumeId, state.spec.files.privateKey);
    if (!pem) return undefined;
    const privateKey = decodePrivateKey(new TextDecoder().decode(pem));
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
}
