import { describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import type { CertVolumeStatusObject } from '../kube/status/status-object.js';
import { ClusterStore } from './cluster-store.js';
import { startStatusWatch, type StatusListWatch, type StatusPage, type WatchPhase } from './status-watch.js';
import { fakeStatusObject } from './testing.js';

const logger = createLogger({ level: 'silent', role: 'test' });
const obj = (pod: string, node = 'n1') =>
  fakeStatusObject({ namespace: 'a', pod, node, notAfter: 3600, nextRenewal: 1800 });

/** A fake API server: pages of `pageSize`, one watch at a time, a list counter. */
class FakeApi implements StatusListWatch {
  objects: CertVolumeStatusObject[] = [];
  lists = 0;
  watchFrom: string[] = [];
  emit?: (phase: WatchPhase, o: CertVolumeStatusObject & { code?: number }) => void;
  end?: (err: unknown) => void;
  constructor(private readonly pageSize = 2) {}
  list(token: string | undefined): Promise<StatusPage> {
    if (token === undefined) this.lists++;
    const start = Number(token ?? 0);
    const end = start + this.pageSize;
    return Promise.resolve({
      items: this.objects.slice(start, end),
      resourceVersion: `rv${this.lists}`,
      continueToken: end < this.objects.length ? String(end) : undefined,
    });
  }
  watch(rv: string, onEvent: FakeApi['emit'] & {}, done: (err: unknown) => void) {
    this.watchFrom.push(rv);
    this.emit = onEvent;
    this.end = done;
    return Promise.resolve({ abort: () => undefined });
  }
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(what()).toBe(true);
};

describe('status watch', () => {
  it('lists every page, then applies watch events from the list version', async () => {
    const api = new FakeApi(2);
    api.objects = ['p1', 'p2', 'p3', 'p4', 'p5'].map((p) => obj(p));
    const store = new ClusterStore();
    const w = startStatusWatch({ api, store, logger, retryDelayMs: 1 });
    await w.synced;
    expect(store.size).toBe(5);
    await until(() => api.watchFrom.length === 1);
    expect(api.watchFrom).toEqual(['rv1']);
    const p6 = obj('p6', 'n2');
    p6.metadata.resourceVersion = '17';
    api.emit!('ADDED', p6);
    api.emit!('DELETED', obj('p1'));
    api.emit!('BOOKMARK', { metadata: { resourceVersion: '20' } } as CertVolumeStatusObject);
    expect([...store.values()].map((v) => v.pod).sort()).toEqual(['p2', 'p3', 'p4', 'p5', 'p6']);
    // A watch the server closes is re-opened from the last version seen, without a list.
    api.end!(null);
    await until(() => api.watchFrom.length === 2);
    expect(api.watchFrom[1]).toBe('20');
    expect(api.lists).toBe(1);
    w.stop();
  });

  it('lists again after 410 Gone, and drops what disappeared meanwhile', async () => {
    const api = new FakeApi(10);
    api.objects = [obj('p1'), obj('p2')];
    const store = new ClusterStore();
    const w = startStatusWatch({ api, store, logger, retryDelayMs: 1 });
    await w.synced;
    await until(() => api.watchFrom.length === 1);
    api.objects = [obj('p2'), obj('p3')];
    api.emit!('ERROR', { code: 410 } as CertVolumeStatusObject & { code: number });
    api.end!(null);
    await until(() => api.lists === 2 && api.watchFrom.length === 2);
    expect([...store.values()].map((v) => v.pod).sort()).toEqual(['p2', 'p3']);
    expect(api.watchFrom[1]).toBe('rv2');
    w.stop();
  });
});
