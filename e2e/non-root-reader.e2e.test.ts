/**
 * What a non-root container user can read in its volume, seen from outside: the node publishes over
 * the real CSI socket onto a real tmpfs, and `setpriv` runs `ls` and `cat` as uid 65534 (nobody),
 * with and without the pod's fsGroup among its groups.
 */
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Harness, PREFIX, codeName } from './support/harness.js';

const run = promisify(execFile);
let h: Harness;

beforeAll(async () => {
  h = await Harness.start({ suite: 'non-root-reader' });
  // In a pod only the bind mount is visible; here the harness directories must let uid 65534 through.
  chmodSync(h.root, 0o711);
}, 120_000);

afterAll(async () => {
  await h?.close();
});

/** Exit code of `cmd` run as uid/gid 65534 with the given supplementary groups. */
async function asNobody(groups: number[], cmd: string[]): Promise<number> {
  const g = groups.length ? ['--groups', groups.join(',')] : ['--clear-groups'];
  return run('setpriv', ['--reuid', '65534', '--regid', '65534', ...g, '--', ...cmd]).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );
}

async function access(target: string, groups: number[]) {
  return {
    list: await asNobody(groups, ['ls', target]),
    crt: await asNobody(groups, ['cat', join(target, 'tls.crt')]),
    ca: await asNobody(groups, ['cat', join(target, 'ca.crt')]),
    key: await asNobody(groups, ['cat', join(target, 'tls.key')]),
  };
}

it.each<{
  name: string;
  attrs: Record<string, string>;
  mountGroup: string | undefined;
  asGroups: number[][];
  keyReaders: number[];
}>([
  { name: 'without an fsGroup', attrs: {}, mountGroup: undefined, asGroups: [[], [3000]], keyReaders: [] },
  {
    name: 'with the fs-group attribute',
    attrs: { [`${PREFIX}fs-group`]: '3000' },
    mountGroup: undefined,
    asGroups: [[], [3000]],
    keyReaders: [3000],
  },
  {
    name: "with kubelet's volume_mount_group",
    attrs: {},
    mountGroup: '4000',
    asGroups: [[], [4000]],
    keyReaders: [4000],
  },
])(
  '$name a non-root user lists the volume and reads tls.crt and ca.crt; tls.key only in the group',
  async ({ attrs, mountGroup, asGroups, keyReaders }) => {
    const vol = h.newVolume();
    const r = await h.publish(vol, attrs, mountGroup ? { volumeMountGroup: mountGroup } : {});
    expect(codeName(r.code), r.details).toBe('OK');
    for (const groups of asGroups) {
      const keyReadable = groups.some((g) => keyReaders.includes(g));
      expect(await access(vol.targetPath, groups), `as nobody in groups [${groups.join(',')}]`).toEqual({
        list: 0,
        crt: 0,
        ca: 0,
        key: keyReadable ? 0 : 1,
      });
    }
  },
  60_000,
);
