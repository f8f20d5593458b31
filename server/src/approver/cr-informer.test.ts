import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CertificateRequest } from './certificate-request.js';
import { CrInformer } from './cr-informer.js';
import type { CertificateRequestApi, WatchPhase } from './kube-adapters.js';

type OnEvent = (phase: WatchPhase, obj: CertificateRequest & { code?: number }) => void;

/** Lists `items`; each watch is recorded so the test can send events and end it. */
class ScriptedApi implements CertificateRequestApi {
  items: CertificateRequest[] = [];
  lists = 0;
  watches: { rv: string; onEvent: OnEvent; onDone: (err: unknown) => void }[] = [];
  async list() {
    this.lists++;
    return { items: this.items, resourceVersion: String(10 * this.lists) };
  }
  async watch(rv: string, onEvent: OnEvent, onDone: (err: unknown) => void) {
    this.watches.push({ rv, onEvent, onDone });
    return { abort: () => undefined };
  }
  async updateStatus(cr: CertificateRequest) {
    return cr;
  }
}

const cr = (name: string, rv: string): CertificateRequest => ({
  metadata: { namespace: 'shop', name, resourceVersion: rv },
});
const flush = () => new Promise((resolve) => setTimeout(resolve, 20));

/** An informer over a scripted API that lists `a` at version 5, started and given time to list and watch. */
async function startedInformer() {
  const api = new ScriptedApi();
  api.items = [cr('a', '5')];
  const changed: string[] = [];
  const informer = new CrInformer({
    api,
    logger: pino({ level: 'silent' }),
    onChange: (k) => changed.push(k),
    retryDelayMs: 1,
  });
  informer.start();
  await flush();
  return { api, changed, informer };
}

describe('CrInformer', () => {
  it('lists, watches from the list version, and follows adds, changes and deletes', async () => {
    const { api, changed, informer } = await startedInformer();
    expect(informer.synced).toBe(true);
    expect(api.watches[0]?.rv).toBe('10');
    api.watches[0]!.onEvent('ADDED', cr('b', '11'));
    api.watches[0]!.onEvent('DELETED', cr('a', '12'));
    expect([...informer.cache.keys()]).toEqual(['shop/b']);
    expect(changed).toEqual(['shop/a', 'shop/b']);
    // A watch that times out is re-opened from the last version seen, without a list.
    api.watches[0]!.onDone(null);
    await flush();
    expect(api.watches[1]?.rv).toBe('12');
    expect(api.lists).toBe(1);
    informer.stop();
  });

  it('lists again after 410 Gone and reports every object of the new list', async () => {
    const { api, changed, informer } = await startedInformer();
    api.items = [cr('c', '30')]; // a was deleted and c created while nobody watched
    api.watches[0]!.onEvent('ERROR', { code: 410 });
    api.watches[0]!.onDone(null);
    await flush();
    expect(api.lists).toBe(2);
    expect([...informer.cache.keys()]).toEqual(['shop/c']);
    expect(changed).toEqual(['shop/a', 'shop/c']);
    expect(api.watches[1]?.rv).toBe('20');
    informer.stop();
  });
});
