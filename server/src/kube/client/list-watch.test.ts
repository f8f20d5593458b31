import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../common/logger.js';
import { KubeHttpError } from './kube-json.js';
import { SHORT_WATCH_MS, startListWatch, type WatchPhase } from './list-watch.js';

const logger = createLogger({ level: 'silent', role: 'test' });
const obj = (rv: string) => ({ metadata: { resourceVersion: rv } });
type Obj = ReturnType<typeof obj>;

interface Opened {
  rv: string;
  at: number;
  emit: (phase: WatchPhase, o: Obj & { code?: number; message?: string }) => void;
  end: (err: unknown) => void;
}

/** A scripted API server: lists at version `l<n>` (or fails with the next queued error); watches driven by the test. */
function server() {
  const s = {
    lists: [] as number[],
    listErrors: [] as unknown[],
    watches: [] as Opened[],
    events: [] as string[],
    get last(): Opened {
      return s.watches[s.watches.length - 1]!;
    },
  };
  return s;
}

function start(
  s: ReturnType<typeof server>,
  o: { relistOnFailure?: boolean; resourceVersion?: string } = {},
) {
  return startListWatch<Obj>({
    ...o,
    logger,
    failureMessage: 'test watch failed',
    retryDelayMs: 500,
    list() {
      s.lists.push(Date.now());
      const err = s.listErrors.shift();
      return err ? Promise.reject(err) : Promise.resolve(`l${s.lists.length}`);
    },
    watch(rv, onEvent, onDone) {
      s.watches.push({ rv, at: Date.now(), emit: onEvent, end: onDone });
      return Promise.resolve({ abort: () => onDone(new DOMException('aborted', 'AbortError')) });
    },
    onEvent: (phase, o) => void s.events.push(`${phase} ${o.metadata.resourceVersion}`),
  });
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('startListWatch', () => {
  it('lists, watches from the list version, hands on events in order and moves the version with bookmarks', async () => {
    const s = server();
    const w = start(s);
    await tick();
    expect(s.lists).toHaveLength(1);
    expect(s.watches.map((x) => x.rv)).toEqual(['l1']);
    s.last.emit('ADDED', obj('2'));
    s.last.emit('MODIFIED', obj('3'));
    s.last.emit('BOOKMARK', obj('7'));
    s.last.emit('DELETED', obj('8'));
    s.last.emit('BOOKMARK', obj('9'));
    expect(s.events).toEqual(['ADDED 2', 'MODIFIED 3', 'DELETED 8']);
    s.last.end(null);
    await tick();
    expect(s.watches.map((x) => x.rv)).toEqual(['l1', '9']);
    expect(s.lists).toHaveLength(1);
    w.stop();
  });

  it('starts with the watch when given the version already read', async () => {
    const s = server();
    const w = start(s, { resourceVersion: '41' });
    await tick();
    expect(s.lists).toEqual([]);
    expect(s.watches.map((x) => x.rv)).toEqual(['41']);
    w.stop();
  });

  const endings: { name: string; end: (w: Opened) => void; clean?: boolean; gone?: boolean }[] = [
    { name: 'ended by the server', end: (w) => w.end(null), clean: true },
    { name: 'idle timeout', end: (w) => w.end(new DOMException('idle', 'TimeoutError')), clean: true },
    {
      name: '410 Gone event',
      end: (w) => {
        w.emit('ERROR', { ...obj(''), code: 410 });
        w.end(null);
      },
      gone: true,
    },
    { name: '410 Gone status', end: (w) => w.end(new KubeHttpError(410, '', {})), gone: true },
    {
      name: 'another ERROR event',
      end: (w) => {
        w.emit('ERROR', { ...obj(''), code: 500, message: 'internal' });
        w.end(null);
      },
    },
    { name: 'network failure', end: (w) => w.end(new Error('ECONNRESET')) },
  ];
  const cases = endings.flatMap((e) =>
    [false, true].map((relistOnFailure) => ({
      ...e,
      relistOnFailure,
      wantDelay: e.clean ? 0 : 500,
      wantList: !!e.gone || (!e.clean && relistOnFailure),
    })),
  );

  it.each(cases)(
    '$name, relistOnFailure $relistOnFailure → after $wantDelay ms, list again: $wantList',
    async (c) => {
      const s = server();
      const w = start(s, { relistOnFailure: c.relistOnFailure });
      await tick();
      s.last.emit('MODIFIED', obj('5'));
      const t0 = Date.now();
      c.end(s.last);
      await tick(c.wantDelay);
      expect(s.watches).toHaveLength(2);
      expect(s.last.at - t0).toBe(c.wantDelay);
      expect(s.lists).toHaveLength(c.wantList ? 2 : 1);
      expect(s.last.rv).toBe(c.wantList ? 'l2' : '5');
      w.stop();
    },
  );

  it('a watch the server ends at once with no event backs off (500, 1000 ms) instead of looping; a longer quiet one re-watches at once', async () => {
    const s = server();
    const w = start(s, { resourceVersion: '3' });
    await tick();
    s.last.end(null);
    await tick(499);
    expect(s.watches).toHaveLength(1);
    await tick(1);
    expect(s.watches).toHaveLength(2);
    s.last.end(null);
    await tick(1000);
    expect(s.watches).toHaveLength(3);
    await tick(SHORT_WATCH_MS);
    s.last.end(null);
    await tick();
    expect(s.watches).toHaveLength(4);
    expect(s.watches.map((x) => x.rv)).toEqual(['3', '3', '3', '3']);
    expect(s.lists).toEqual([]);
    w.stop();
  });

  it('retries a failing list with backoff up to 30 s, then watches', async () => {
    const s = server();
    s.listErrors = Array.from({ length: 8 }, () => new Error('ECONNREFUSED'));
    const w = start(s);
    await tick(120_000);
    const gaps = s.lists.slice(1).map((t, i) => t - s.lists[i]!);
    expect(gaps).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(s.watches.map((x) => x.rv)).toEqual(['l9']);
    w.stop();
  });

  it('stop aborts the watch and nothing follows', async () => {
    const s = server();
    const w = start(s, { relistOnFailure: true });
    await tick();
    w.stop();
    await tick(60_000);
    expect(s.watches).toHaveLength(1);
    expect(s.lists).toHaveLength(1);
  });
});
