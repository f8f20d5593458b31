/**
 * Bounded answers over the real CSI socket: a publish whose attribute values are huge gets
 * INVALID_ARGUMENT with a short message, leaves nothing behind, and the same connection still
 * answers Probe and a normal publish afterwards.
 */
import { expect, it } from 'vitest';
import { PREFIX, codeName, harnessPerSuite, type Harness } from './support/harness.js';

let h: Harness;
harnessPerSuite({ suite: 'bounded-answers' }, (started) => (h = started));

it.each<{ name: string; attrs: Record<string, string> }>([
  {
    name: 'dns-names of 300,000 characters (the edge limit)',
    attrs: { [`${PREFIX}dns-names`]: 'a'.repeat(300_000) },
  },
  {
    name: 'dns-names of 60,000 characters (below the edge limit: the core refuses it)',
    attrs: { [`${PREFIX}dns-names`]: 'b'.repeat(60_000) },
  },
  { name: 'a common name of 60,000 characters', attrs: { [`${PREFIX}common-name`]: 'c'.repeat(60_000) } },
  { name: 'a duration of 60,000 characters', attrs: { [`${PREFIX}duration`]: '1'.repeat(60_000) } },
  { name: 'a 300,000-character unknown key', attrs: { [`${PREFIX}${'k'.repeat(300_000)}`]: 'v' } },
])('$name gets INVALID_ARGUMENT with a bounded message; Probe still answers', async ({ attrs }) => {
  const before = h.snapshot();
  const vol = h.newVolume();
  const r = await h.publish(vol, attrs);
  expect(codeName(r.code), r.details.slice(0, 200)).toBe('INVALID_ARGUMENT');
  expect(r.details.length).toBeLessThanOrEqual(1024);
  const probe = await h.client.call<{ ready?: { value?: boolean } }>('Identity', 'Probe', {});
  expect(probe.ready?.value).toBe(true);
  expect(h.snapshot().state).toEqual(before.state);
  expect(h.snapshot().mounts).toEqual(before.mounts);
});

it('a normal publish on the same connection still succeeds', async () => {
  const r = await h.publish(h.newVolume());
  expect(codeName(r.code), r.details).toBe('OK');
});
