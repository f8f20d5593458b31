import pino from 'pino';
import { describe, expect, it } from 'vitest';
import {
  Code,
  InternalError,
  InvalidArgumentError,
  PermissionDeniedError,
  UnavailableError,
} from '../../common/errors.js';
import type { VolumeFailure } from '../../volumes/status-reporter.port.js';
import type { PodEvent, PodEventRecorder } from '../events/pod-events.port.js';
import type { StatusApi } from './status-api.js';
import { statusObject, type CertVolumeStatusObject } from './status-object.js';
import { WriteQueue } from './status-queue.js';
import { TokenBucket } from './status-rate-limit.js';
import { KubernetesStatusReporter, UNAVAILABLE_EVENT_AFTER, failureReason } from './status-reporter.js';
import { volumeState } from './status-testing.js';

const logger = pino({ level: 'silent' });

/** An in-memory API server for CertVolumeStatus objects, recording every call. */
class FakeStatusApi implements StatusApi {
  readonly objects = new Map<string, CertVolumeStatusObject>();
  readonly calls: string[] = [];
  failList = 0;
  apply(obj: CertVolumeStatusObject): Promise<void> {
    this.calls.push(`apply ${obj.metadata.name}`);
    this.objects.set(`${obj.metadata.namespace}/${obj.metadata.name}`, structuredClone(obj));
    return Promise.resolve();
  }
  delete(namespace: string, name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    this.objects.delete(`${namespace}/${name}`);
    return Promise.resolve();
  }
  list(): Promise<CertVolumeStatusObject[]> {
    this.calls.push('list');
    if (this.failList-- > 0) return Promise.reject(new Error('connect ECONNREFUSED'));
    return Promise.resolve([...this.objects.values()].map((o) => structuredClone(o)));
  }
}

class FakeEvents implements PodEventRecorder {
  readonly events: PodEvent[] = [];
  record(e: PodEvent): void {
    this.events.push(e);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function reporter(api: FakeStatusApi = new FakeStatusApi()) {
  const events = new FakeEvents();
  const queue = new WriteQueue({
    limiter: new TokenBucket({ qps: 1000, burst: 1000 }),
    logger,
    batchDelayMs: 0,
  });
  const r = new KubernetesStatusReporter({ api, queue, events, nodeId: 'node-a', logger, resyncRetryMs: 5 });
  return { r, api, events, flush: () => queue.drain(1000) };
}

const pod = volumeState().pod;
const failure = (error: unknown, operation: 'publish' | 'renew' = 'publish'): VolumeFailure => ({
  operation,
  volumeId: 'csi-0123',
  pod,
  error,
});

describe('KubernetesStatusReporter: objects', () => {
  it('applies the object on publish and renewal, once per batch, and deletes it on unpublish', async () => {
    const { r, api, flush } = reporter();
    const state = volumeState();
    r.volumeChanged(state.volumeId, state);
    r.volumeChanged(state.volumeId, { ...state, failures: 1 });
    await flush();
    const name = statusObject({ state }).metadata.name;
    expect(api.calls).toEqual([`apply ${name}`]);
    expect([...api.objects.values()][0]!.status.consecutiveFailures).toBe(1);
    r.volumeChanged(state.volumeId, undefined);
    await flush();
    expect(api.calls).toEqual([`apply ${name}`, `delete ${name}`]);
    expect(api.objects.size).toBe(0);
  });

  it('does nothing for the unpublish of a volume it never wrote', async () => {
    const { r, api, flush } = reporter();
    r.volumeChanged('csi-unknown', undefined);
    await flush();
    expect(api.calls).toEqual([]);
  });

  it('re-syncs after a restart: deletes objects of vanished volumes, skips unchanged, writes changed and missing', async () => {
    const api = new FakeStatusApi();
    const unchanged = volumeState({ volumeId: 'csi-same' });
    const changed = volumeState({ volumeId: 'csi-changed' });
    const gone = volumeState({ volumeId: 'csi-gone' });
    const missing = volumeState({ volumeId: 'csi-missing' });
    const otherNode = volumeState({ volumeId: 'csi-other', nodeId: 'node-b' });
    for (const s of [unchanged, changed, gone, otherNode]) await api.apply(statusObject({ state: s }));
    api.calls.length = 0;
    const { r, flush } = reporter(api);
    r.resync([unchanged, { ...changed, failures: 3 }, missing]);
    await new Promise((res) => setTimeout(res, 20));
    await flush();
    const name = (s: typeof unchanged) => statusObject({ state: s }).metadata.name;
    expect(api.calls.sort()).toEqual(
      ['list', `apply ${name(changed)}`, `apply ${name(missing)}`, `delete ${name(gone)}`].sort(),
    );
    // Objects of another node are not this node's to delete.
    expect(api.objects.has(`apps/${name(otherNode)}`)).toBe(true);
  });

  it('retries a failed resync list, and a volume changed meanwhile keeps its newer state', async () => {
    const api = new FakeStatusApi();
    const old = volumeState();
    await api.apply(statusObject({ state: old }));
    api.failList = 2;
    api.calls.length = 0;
    const { r, flush } = reporter(api);
    r.resync([old]);
    const newer = { ...old, failures: 4 };
    r.volumeChanged(old.volumeId, newer);
    await new Promise((res) => setTimeout(res, 100));
    await flush();
    expect(api.calls.filter((c) => c === 'list')).toHaveLength(3);
    expect([...api.objects.values()][0]!.status.consecutiveFailures).toBe(4);
  });
});

describe('KubernetesStatusReporter: Events', () => {
  it.each([
    { error: new PermissionDeniedError('issuer denied the request: x'), reason: 'IssuanceDenied' },
    { error: Object.assign(new Error('u'), { code: Code.UNAUTHENTICATED }), reason: 'IssuanceDenied' },
    { error: new InvalidArgumentError('issuer', 'bad CSR'), reason: 'IssuanceRejected' },
    { error: Object.assign(new Error('p'), { code: Code.FAILED_PRECONDITION }), reason: 'IssuanceRejected' },
    { error: new UnavailableError('down'), reason: 'IssuerUnavailable' },
    { error: new InternalError('mount failed'), reason: 'PublishFailed' },
    { error: new Error('plain'), reason: 'PublishFailed' },
  ])('$reason for $error.message', ({ error, reason }) => {
    expect(failureReason(failure(error))).toBe(reason);
  });

  it('calls any other renewal failure RenewalFailed', () => {
    expect(failureReason(failure(new InternalError('disk full'), 'renew'))).toBe('RenewalFailed');
  });

  it('records a Warning on the pod keyed by the volume, naming what failed', () => {
    const { r, events } = reporter();
    r.operationFailed(
      failure(new PermissionDeniedError('issuer denied the request: not your node'), 'renew'),
    );
    expect(events.events).toEqual([
      {
        pod: { namespace: 'apps', name: 'web-1', uid: pod.uid },
        type: 'Warning',
        reason: 'IssuanceDenied',
        action: 'Renew',
        message:
          'Renewing the certificate of volume csi-0123 failed: issuer denied the request: not your node',
        key: 'csi-0123',
      },
    ]);
  });

  it(`reports an unreachable issuer from the ${UNAVAILABLE_EVENT_AFTER}rd consecutive failure on, and counts again after a success`, () => {
    const { r, events } = reporter();
    const down = () => r.operationFailed(failure(new UnavailableError('issuer unreachable')));
    for (let i = 1; i < UNAVAILABLE_EVENT_AFTER; i++) down();
    expect(events.events).toHaveLength(0);
    down();
    expect(events.events).toHaveLength(1);
    r.volumeChanged('csi-0123', volumeState());
    down();
    expect(events.events).toHaveLength(1);
  });
});
