import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { KubeHttpError } from '../client/kube-json.js';
import { watchSecret, type WatchSecretOptions } from './secret-watcher.js';
import { FakeKube, type FakeWatch } from './testing.js';

const logger = createLogger({ level: 'silent', role: 'test' });
const REF = { namespace: 'csi-cert-driver', name: 'csi-ca-secret' };
const BASE_MS = 500;

const secret = (rv: string, crt = `crt-${rv}`) => ({
  metadata: { name: REF.name, namespace: REF.namespace, resourceVersion: rv },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(crt).toString('base64') },
});

/** Starts a watch from version `rv` on `kube`; returns what it delivered. */
function start(kube: FakeKube, rv = '1', extra: Partial<WatchSecretOptions> = {}) {
  const changes: string[] = [];
  const deletes: number[] = [];
  const w = watchSecret({
    json: kube,
    ref: REF,
    logger,
    resourceVersion: rv,
    retryDelayMs: BASE_MS,
    onChange: (s) => void changes.push(s.metadata!.resourceVersion!),
    onDelete: () => void deletes.push(Date.now()),
    ...extra,
  });
  return { w, changes, deletes };
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('watchSecret', () => {
  it('watches the one Secret from the version read, by field selector, with bookmarks', async () => {
    const kube = new FakeKube();
    const { w } = start(kube, '7', { watchTimeoutSeconds: 20 });
    await tick();
    expect(kube.watches).toHaveLength(1);
    expect(kube.last.path).toBe('/api/v1/namespaces/csi-cert-driver/secrets');
    expect(Object.fromEntries(kube.last.query)).toEqual({
      watch: 'true',
      fieldSelector: 'metadata.name=csi-ca-secret',
      resourceVersion: '7',
      allowWatchBookmarks: 'true',
      timeoutSeconds: '20',
    });
    // Silence is a dead connection only past the server's own end of the watch.
    expect(kube.last.idleMs).toBe(30_000);
    expect(kube.gets).toEqual([]);
    w.stop();
  });

  const endings: {
    name: string;
    end: (w: FakeWatch) => void;
    /** Re-reads the Secret before watching again. */
    reread: boolean;
    delayMs: number;
  }[] = [
    { name: 'the API server ends it (timeoutSeconds)', end: (w) => w.end(null), reread: false, delayMs: 0 },
    {
      name: 'no data past its idle timeout',
      end: (w) => w.end(new DOMException('idle', 'TimeoutError')),
      reread: false,
      delayMs: 0,
    },
    {
      name: '410 Gone as an ERROR event',
      end: (w) => {
        w.emit('ERROR', { kind: 'Status', code: 410, message: 'too old resource version' });
        w.end(null);
      },
      reread: true,
      delayMs: BASE_MS,
    },
    {
      name: '410 Gone as the answer status',
      end: (w) => w.end(new KubeHttpError(410, '{"message":"gone"}', {})),
      reread: true,
      delayMs: BASE_MS,
    },
    {
      name: 'another ERROR event',
      end: (w) => {
        w.emit('ERROR', { kind: 'Status', code: 500, message: 'etcd unavailable' });
        w.end(null);
      },
      reread: false,
      delayMs: BASE_MS,
    },
    {
      name: 'a network failure',
      end: (w) => w.end(new Error('socket hang up')),
      reread: false,
      delayMs: BASE_MS,
    },
    {
      name: 'a refusal (403)',
      end: (w) => w.end(new KubeHttpError(403, '{"message":"forbidden"}', {})),
      reread: false,
      delayMs: BASE_MS,
    },
  ];

  it.each(endings)('$name → watches again after $delayMs ms (re-read: $reread)', async (c) => {
    const kube = new FakeKube();
    const { w, changes } = start(kube, '1');
    await tick();
    kube.last.emit('MODIFIED', secret('2'));
    kube.secret = secret('5');
    const t0 = Date.now();
    c.end(kube.last);
    if (c.delayMs > 0) {
      await tick(c.delayMs - 1);
      expect(kube.watches).toHaveLength(1);
      expect(kube.gets).toHaveLength(0);
    }
    await tick(c.delayMs === 0 ? 0 : 1);
    expect(kube.watches).toHaveLength(2);
    expect(kube.last.at - t0).toBe(c.delayMs);
    expect(kube.gets.map((g) => g.path)).toEqual(
      c.reread ? ['/api/v1/namespaces/csi-cert-driver/secrets/csi-ca-secret'] : [],
    );
    // From the last version seen, or the one the re-read returned (which is delivered too).
    expect(kube.last.query.get('resourceVersion')).toBe(c.reread ? '5' : '2');
    expect(changes).toEqual(c.reread ? ['2', '5'] : ['2']);
    w.stop();
  });

  it('backs off 0.5 s, doubling up to 30 s, and starts again at 0.5 s after an event', async () => {
    const kube = new FakeKube();
    const { w } = start(kube);
    await tick();
    const gaps: number[] = [];
    for (let i = 0; i < 9; i++) {
      const before = kube.watches.length;
      const t = Date.now();
      kube.last.end(new Error('ECONNREFUSED'));
      await tick(30_000);
      expect(kube.watches).toHaveLength(before + 1);
      gaps.push(kube.last.at - t);
    }
    expect(gaps).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    kube.last.emit('BOOKMARK', { metadata: { resourceVersion: '9' } });
    const t = Date.now();
    kube.last.end(new Error('ECONNRESET'));
    await tick(30_000);
    expect(kube.last.at - t).toBe(500);
    expect(kube.last.query.get('resourceVersion')).toBe('9');
    w.stop();
  });

  it('retries a failing re-read after 410 Gone with backoff, then watches from its version', async () => {
    const kube = new FakeKube();
    const { w, changes } = start(kube);
    await tick();
    kube.secret = secret('40');
    kube.getErrors = [new Error('ECONNREFUSED'), new KubeHttpError(503, '', {})];
    const t0 = Date.now();
    kube.last.emit('ERROR', { code: 410 });
    kube.last.end(null);
    await tick(10_000);
    expect(kube.gets.map((g) => g.at - t0)).toEqual([500, 1500, 3500]);
    expect(kube.watches).toHaveLength(2);
    expect(kube.last.query.get('resourceVersion')).toBe('40');
    expect(changes).toEqual(['40']);
    w.stop();
  });

  it('delivers each version once, in order, one call at a time', async () => {
    const kube = new FakeKube();
    const seen: string[] = [];
    let running = 0;
    let most = 0;
    const { w } = start(kube, '1', {
      onChange: async (s) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 100));
        seen.push(s.metadata!.resourceVersion!);
        running--;
      },
    });
    await tick();
    kube.last.emit('ADDED', secret('1')); // the version already handled at start
    kube.last.emit('MODIFIED', secret('2'));
    kube.last.emit('MODIFIED', secret('2'));
    kube.last.emit('MODIFIED', secret('3'));
    kube.secret = secret('3'); // the re-read after 410 Gone finds the version already delivered
    kube.last.emit('ERROR', { code: 410 });
    kube.last.end(null);
    await tick(1_000);
    kube.last.emit('MODIFIED', secret('4'));
    await tick(1_000);
    expect(seen).toEqual(['2', '3', '4']);
    expect(most).toBe(1);
    w.stop();
  });

  it('keeps the version in use when the Secret is deleted, and delivers it once it is back', async () => {
    const kube = new FakeKube();
    const { w, changes, deletes } = start(kube);
    await tick();
    kube.last.emit('MODIFIED', secret('2'));
    kube.last.emit('DELETED', secret('3'));
    await tick();
    expect(deletes).toHaveLength(1);
    expect(changes).toEqual(['2']);
    kube.last.end(null);
    await tick();
    expect(kube.last.query.get('resourceVersion')).toBe('3');
    kube.last.emit('ADDED', secret('4'));
    await tick();
    expect(changes).toEqual(['2', '4']);
    w.stop();
  });

  it('goes on after onChange throws', async () => {
    const kube = new FakeKube();
    const seen: string[] = [];
    const { w } = start(kube, '1', {
      onChange: (s) => {
        seen.push(s.metadata!.resourceVersion!);
        if (seen.length === 1) throw new Error('bad CA');
      },
    });
    await tick();
    kube.last.emit('MODIFIED', secret('2'));
    kube.last.emit('MODIFIED', secret('3'));
    await tick();
    expect(seen).toEqual(['2', '3']);
    expect(kube.watches).toHaveLength(1);
    w.stop();
  });

  it('stop aborts the open watch, opens no other and delivers nothing more', async () => {
    const kube = new FakeKube();
    const { w, changes } = start(kube);
    await tick();
    const open = kube.last;
    w.stop();
    expect(open.aborted).toBe(true);
    open.emit('MODIFIED', secret('2'));
    await tick(60_000);
    expect(kube.watches).toHaveLength(1);
    expect(changes).toEqual([]);
  });

  it('stop during a backoff cancels the next watch', async () => {
    const kube = new FakeKube();
    const { w } = start(kube);
    await tick();
    kube.last.end(new Error('ECONNRESET'));
    w.stop();
    await tick(60_000);
    expect(kube.watches).toHaveLength(1);
  });
});
