/**
 * Measures what one publish costs the Linux adapter: createVolume (tmpfs + read-only bind),
 * writeFiles (a cert, a key and a CA) and isPublished, then removeVolume, for each mounter
 * available. Needs root. Run: `npx tsx platform/linux/bench/publish-cost.ts [rounds]`; set
 * KOFFI_RESOLVE_FROM to a directory holding node_modules/koffi to include the FFI mounter.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ExecMounter, LinuxPlatform, loadFfiMounter } from '../src/index.js';
import type { Mounter, VolumeFile } from '../src/index.js';

const rounds = Number(process.argv[2] ?? 200);
const files: VolumeFile[] = [
  { name: 'tls.crt', data: new Uint8Array(900), mode: 0o440 },
  { name: 'tls.key', data: new Uint8Array(250), mode: 0o440 },
  { name: 'ca.crt', data: new Uint8Array(700), mode: 0o444 },
];

const mounters: Mounter[] = [new ExecMounter()];
const from = process.env['KOFFI_RESOLVE_FROM'];
const ffi = loadFfiMounter(from === undefined ? undefined : path.join(from, 'noop.js'));
if (ffi !== undefined) mounters.push(ffi);

const pct = (xs: number[], p: number): string => {
  const sorted = [...xs].sort((a, b) => a - b);
  return (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN).toFixed(3);
};

for (const mounter of mounters) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'csi-linux-bench-'));
  const platform = new LinuxPlatform({ dataRoot: path.join(root, 'mounts'), mounter });
  const t = { create: [] as number[], write: [] as number[], check: [] as number[], remove: [] as number[] };
  try {
    for (let i = 0; i < rounds; i++) {
      const loc = { volumeId: `v${i}`, targetPath: path.join(root, `target-${i}`) };
      let s = performance.now();
      await platform.createVolume({ ...loc, sizeBytes: 1 << 20, fsGroup: 1000 });
      t.create.push(performance.now() - s);
      s = performance.now();
      await platform.writeFiles(loc.volumeId, files);
      t.write.push(performance.now() - s);
      s = performance.now();
      if (!(await platform.isPublished(loc))) throw new Error(`volume ${loc.volumeId} not published`);
      t.check.push(performance.now() - s);
      s = performance.now();
      await platform.removeVolume(loc);
      t.remove.push(performance.now() - s);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  const publish = t.create.map((c, i) => c + (t.write[i] ?? 0));
  console.log(`mounter ${mounter.name}, ${rounds} rounds, milliseconds p50 / p90:`);
  for (const [name, xs] of Object.entries({ ...t, 'create+write': publish })) {
    console.log(`  ${name.padEnd(13)} ${pct(xs, 50)} / ${pct(xs, 90)}`);
  }
}
