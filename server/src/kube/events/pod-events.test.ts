import { ApiException } from '@kubernetes/client-node';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { safeText } from '../../common/safe-text.js';
import { KubernetesPodEventRecorder } from './pod-events.js';
import type { CoreEvent, EventsApi } from '../status/status-api.js';
import { WriteQueue } from '../status/status-queue.js';
import { TokenBucket } from '../status/status-rate-limit.js';

const logger = pino({ level: 'silent' });
const pod = { namespace: 'apps', name: 'web-1', uid: 'uid-1' };

/** An in-memory Events API: created Events by name, and every call. */
class FakeEventsApi implements EventsApi {
  readonly events = new Map<string, CoreEvent>();
  readonly calls: string[] = [];
  create(e: CoreEvent): Promise<void> {
    this.calls.push('create');
    this.events.set(e.metadata.name, structuredClone(e));
    return Promise.resolve();
  }
  update(
    _ns: string,
    name: string,
    patch: Pick<CoreEvent, 'count' | 'lastTimestamp' | 'message'>,
  ): Promise<void> {
    this.calls.push('update');
    const e = this.events.get(name);
    if (!e) return Promise.reject(new ApiException(404, 'Not Found', { message: 'gone' }, {}));
    Object.assign(e, patch);
    return Promise.resolve();
  }
}

function recorder(now = () => new Date('2026-01-01T00:00:00Z')) {
  const api = new FakeEventsApi();
  const queue = new WriteQueue({
    limiter: new TokenBucket({ qps: 1000, burst: 1000 }),
    logger,
    batchDelayMs: 0,
  });
  const r = new KubernetesPodEventRecorder({
    api,
    queue,
    component: 'csi-cert-driver-node',
    instance: 'node-a',
    now,
  });
  return { r, api, flush: () => queue.drain(1000) };
}

describe('KubernetesPodEventRecorder', () => {
  it('creates a core/v1 Warning Event on the pod', async () => {
    const { r, api, flush } = recorder();
    r.record({
      pod,
      type: 'Warning',
      reason: 'IssuanceDenied',
      message: 'denied',
      action: 'Publish',
      key: 'csi-1',
    });
    await flush();
    const [e] = [...api.events.values()];
    expect(e).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'apps' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'apps', uid: 'uid-1' },
      type: 'Warning',
      reason: 'IssuanceDenied',
      action: 'Publish',
      message: 'denied',
      count: 1,
      source: { component: 'csi-cert-driver-node', host: 'node-a' },
      reportingInstance: 'node-a',
    });
    expect(e!.metadata.name).toMatch(/^web-1\.[0-9a-f]{16}$/);
  });

  it('folds repeats of one pod, reason and key into one Event with a count and the latest message', async () => {
    const { r, api, flush } = recorder();
    r.record({ pod, type: 'Warning', reason: 'IssuerUnavailable', message: 'm1', key: 'csi-1' });
    await flush();
    for (const m of ['m2', 'm3', 'm4'])
      r.record({ pod, type: 'Warning', reason: 'IssuerUnavailable', message: m, key: 'csi-1' });
    await flush();
    r.record({ pod, type: 'Warning', reason: 'IssuerUnavailable', message: 'other volume', key: 'csi-2' });
    await flush();
    expect(api.events.size).toBe(2);
    expect([...api.events.values()].map((e) => [e.count, e.message])).toEqual([
      [4, 'm4'],
      [1, 'other volume'],
    ]);
    // Three repeats queued while the first update waited: one write.
    expect(api.calls).toEqual(['create', 'update', 'create']);
  });

  it('creates the Event again when it expired from the API server', async () => {
    const { r, api, flush } = recorder();
    r.record({ pod, type: 'Warning', reason: 'RenewalFailed', message: 'a' });
    await flush();
    api.events.clear();
    r.record({ pod, type: 'Warning', reason: 'RenewalFailed', message: 'b' });
    await flush();
    expect(api.calls).toEqual(['create', 'update', 'create']);
    expect([...api.events.values()][0]).toMatchObject({ count: 2, message: 'b' });
  });

  it('starts a new Event after the aggregation window', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const { r, api, flush } = recorder(() => now);
    r.record({ pod, type: 'Warning', reason: 'RenewalFailed', message: 'a' });
    await flush();
    now = new Date('2026-01-01T02:00:00Z');
    r.record({ pod, type: 'Warning', reason: 'RenewalFailed', message: 'b' });
    await flush();
    expect(api.events.size).toBe(2);
  });

  it("records cert-manager mode's Warnings with the message cut to 1024 characters", async () => {
    const { r, api, flush } = recorder();
    r.record({ pod, type: 'Warning', reason: 'CertificateRequestDenied', message: 'x'.repeat(2000) });
    await flush();
    const [e] = [...api.events.values()];
    expect(e).toMatchObject({
      metadata: { namespace: 'apps' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'apps', uid: 'uid-1' },
      type: 'Warning',
      reason: 'CertificateRequestDenied',
      source: { component: 'csi-cert-driver-node', host: 'node-a' },
      count: 1,
    });
    expect(e!.metadata.name).toMatch(/^web-1\./);
    expect(e!.message).toHaveLength(1024);
  });

  it('never throws: a refused Event is only logged', async () => {
    const lines: string[] = [];
    const warnLogger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const api: EventsApi = {
      create: () => Promise.reject(new ApiException(403, 'Forbidden', { message: 'forbidden' }, {})),
      update: () => Promise.resolve(),
    };
    const queue = new WriteQueue({
      limiter: new TokenBucket({ qps: 1000, burst: 1000 }),
      logger: warnLogger,
      batchDelayMs: 0,
      maxAttempts: 1,
    });
    const r = new KubernetesPodEventRecorder({
      api,
      queue,
      component: 'c',
      instance: 'node-a',
    });
    expect(() =>
      r.record({ pod, type: 'Warning', reason: 'CertificateRequestFailed', message: 'm' }),
    ).not.toThrow();
    await r.close(1000);
    expect(lines.join('')).toContain('Kubernetes API write failed');
    expect(lines.join('')).toContain('HTTP 403: forbidden');
  });
});

describe('safeText (Event messages)', () => {
  it.each([
    {
      name: 'a PEM block',
      input: 'bad CSR -----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST----- end',
      want: 'bad CSR [PEM removed] end',
    },
    { name: 'a cut PEM block', input: 'x -----BEGIN PRIVATE KEY-----\nMIIE', want: 'x [PEM removed]' },
    {
      name: 'a JWT',
      input: 'token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl rejected',
      want: 'token [token removed] rejected',
    },
    { name: 'a long message', input: 'a'.repeat(5000), want: `${'a'.repeat(1023)}…` },
    { name: 'control characters', input: 'line1\nline2\ttab', want: 'line1 line2 tab' },
  ])('removes $name', ({ input, want }) => {
    expect(safeText(input)).toBe(want);
  });
});
