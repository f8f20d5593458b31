import { describe, expect, it } from 'vitest';
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { customObjectPages, listAll, ListExpiredError, type ListPage } from './paged-list.js';

/** An ApiException-shaped error (kube-errors recognises it by shape). */
const apiError = (code: number) =>
  Object.assign(new Error(`HTTP ${code}`), { code, body: '{"message":"too old"}', headers: {} });

/**
 * A fake API server: `objects` in pages of `size`, tokens naming the list (a count of first-page
 * reads) and the offset; the next `expireNext` continued reads are answered 410 (as after an etcd
 * compaction).
 */
class FakeList {
  generation = 0;
  requests: (string | undefined)[] = [];
  expireNext = 0;
  constructor(
    readonly objects: number[],
    readonly size: number,
  ) {}
  read = (token: string | undefined): Promise<ListPage<number>> => {
    this.requests.push(token);
    if (token === undefined) this.generation++;
    else if (this.expireNext > 0) {
      this.expireNext--;
      return Promise.reject(apiError(410));
    }
    const start = token === undefined ? 0 : Number(token.split(':')[1]);
    const end = start + this.size;
    return Promise.resolve({
      items: this.objects.slice(start, end),
      resourceVersion: `rv${this.generation}`,
      continueToken: end < this.objects.length ? `${this.generation}:${end}` : undefined,
    });
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('listAll', () => {
  it.each([
    { name: 'an empty list', n: 0, size: 3, requests: 1 },
    { name: 'one short page', n: 2, size: 3, requests: 1 },
    { name: 'exactly one page', n: 3, size: 3, requests: 1 },
    { name: 'several pages', n: 10, size: 3, requests: 4 },
  ])('reads every page of $name', async ({ n, size, requests }) => {
    const fake = new FakeList(range(n), size);
    const got = await listAll({ what: 'things', read: fake.read });
    expect(got.items).toEqual(range(n));
    expect(got.resourceVersion).toBe('rv1');
    expect(fake.requests).toHaveLength(requests);
  });

  it('maps each object as its page arrives and drops undefined', async () => {
    const fake = new FakeList(range(7), 2);
    const got = await listAll({
      what: 'things',
      read: fake.read,
      map: (i) => (i % 2 ? `odd ${i}` : undefined),
    });
    expect(got.items).toEqual(['odd 1', 'odd 3', 'odd 5']);
  });

  it('restarts from the first page when a continue token expires, keeping nothing of the old list', async () => {
    const fake = new FakeList(range(5), 2);
    fake.expireNext = 2;
    const got = await listAll({ what: 'things', read: fake.read });
    expect(got.items).toEqual(range(5));
    expect(got.resourceVersion).toBe('rv3');
    expect(fake.requests).toEqual([undefined, '1:2', undefined, '2:2', undefined, '3:2', '3:4']);
  });

  it('gives up with ListExpiredError naming the resource after the last restart', async () => {
    const fake = new FakeList(range(5), 2);
    fake.expireNext = 100;
    const err = await listAll({ what: 'things', read: fake.read, restarts: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ListExpiredError);
    expect((err as Error).message).toMatch(/list of things expired \(HTTP 410 Gone\) 3 times/);
    expect(fake.requests.filter((t) => t === undefined)).toHaveLength(3);
  });

  it.each([
    { name: 'a 410 of the first page', fail: (t?: string) => t === undefined, code: 410 },
    { name: 'a 500 of a later page', fail: (t?: string) => t !== undefined, code: 500 },
  ])('passes $name through as it came', async ({ fail, code }) => {
    const fake = new FakeList(range(5), 2);
    const read = (t: string | undefined) => (fail(t) ? Promise.reject(apiError(code)) : fake.read(t));
    await expect(listAll({ what: 'things', read })).rejects.toMatchObject({ code });
  });

  it('stops between pages once stopped', async () => {
    const fake = new FakeList(range(10), 2);
    let stop = false;
    const got = await listAll({
      what: 'things',
      read: async (t) => {
        const page = await fake.read(t);
        stop = true;
        return page;
      },
      stopped: () => stop,
    });
    expect(got.items).toEqual([0, 1]);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('customObjectPages', () => {
  it('asks for a bounded page with the continue token and hands back the raw list metadata', async () => {
    const calls: unknown[] = [];
    const api = {
      listClusterCustomObject: (req: unknown) => {
        calls.push(req);
        return Promise.resolve({ items: [{ a: 1 }], metadata: { resourceVersion: '7', continue: 'next' } });
      },
    } as unknown as CustomObjectsApi;
    const read = customObjectPages(api, { group: 'g', version: 'v', plural: 'ps', labelSelector: 'l=1' });
    expect(await read('tok')).toEqual({ items: [{ a: 1 }], resourceVersion: '7', continueToken: 'next' });
    expect(calls).toEqual([
      { group: 'g', version: 'v', plural: 'ps', labelSelector: 'l=1', limit: 500, _continue: 'tok' },
    ]);
  });
});
