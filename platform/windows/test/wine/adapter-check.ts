/**
 * Exercises WindowsPlatform on real Windows code paths: bundled with esbuild and run by the Windows
 * build of Node.js under Wine (see ../wine.test.ts). Usage: node.exe adapter-check.mjs RESULT.json WORKDIR
 * (Windows paths). Writes one JSON result; the exit code is 0 even when checks fail, so the
 * Linux side always gets the list of what failed and why.
 */
import { lstat, mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WindowsPlatform } from '../../src/index.js';
import { assert, assertEqual, expectKind, Harness, text, utf8 } from './harness.js';
import { checkPipeServing, pipeClientMain } from './pipe-check.js';
import { raceReaders } from './reader-race.js';

if (process.argv[2] === '--pipe-client') await pipeClientMain(process.argv[3] ?? '', process.argv[4] ?? '');

const [resultPath, workDir] = process.argv.slice(2);
if (!resultPath || !workDir) throw new Error('usage: adapter-check.mjs RESULT.json WORKDIR');

const h = new Harness();
const warnings: string[] = [];
const dataRoot = join(workDir, 'state');
const platform = new WindowsPlatform({ dataRoot, onWarning: (m) => warnings.push(m) });
const target = (pod: string) => join(workDir, 'pods', pod, 'volumes', 'kubernetes.io~csi', 'tls', 'mount');
const vol = { volumeId: 'csi-0a1b2c', targetPath: target('pod-a') };
const pair = (n: number) => [
  { name: 'tls.key', data: text(`key ${n}`), mode: 0o440 },
  { name: 'tls.crt', data: text(`crt ${n}`), mode: 0o440 },
  { name: 'ca.crt', data: text(`ca ${n}`), mode: 0o444 },
];
const listDir = async (dir: string) => (await readdir(dir)).sort();
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

h.facts['symlink'] = await probeSymlink(workDir);

await h.check('named pipe: grpc-js serves and dials the address prepareEndpoint returns', () =>
  checkPipeServing(platform, `npipe://./pipe/csi-cert-driver-wine-${process.pid}/csi.sock`),
);

await h.check('createVolume makes the target directory and its parents, idempotently', async () => {
  await platform.createVolume({ ...vol, sizeBytes: 64 * 1024 });
  await platform.createVolume({ ...vol, sizeBytes: 64 * 1024 });
  assertEqual(await listDir(vol.targetPath), ['.csi-cert-driver.json'], 'fresh volume');
  assertEqual(await platform.isPublished(vol), false, 'isPublished before files');
});

await h.check('writeFiles, readFile and isPublished', async () => {
  await platform.writeFiles(vol.volumeId, pair(1));
  assertEqual(utf8(await platform.readFile(vol.volumeId, 'tls.key')), 'key 1', 'tls.key');
  assertEqual(utf8(await platform.readFile(vol.volumeId, 'TLS.CRT')), 'crt 1', 'tls.crt, case-insensitive');
  assertEqual(await platform.readFile(vol.volumeId, 'missing.pem'), undefined, 'absent file');
  assertEqual(await platform.isPublished(vol), true, 'isPublished');
  assertEqual(
    await listDir(vol.targetPath),
    ['.csi-cert-driver.json', 'ca.crt', 'tls.crt', 'tls.key'],
    'files',
  );
  return { aclStatus: platform.aclStatus };
});

await h.check('rename over existing files replaces the set; dropped files disappear', async () => {
  await writeFile(join(vol.targetPath, '.tls.key.tmp-0badc0de'), 'left by a crash');
  await platform.writeFiles(vol.volumeId, pair(2).slice(0, 2));
  assertEqual(utf8(await platform.readFile(vol.volumeId, 'tls.crt')), 'crt 2', 'tls.crt');
  assertEqual(await platform.readFile(vol.volumeId, 'ca.crt'), undefined, 'dropped ca.crt');
  assertEqual(await listDir(vol.targetPath), ['.csi-cert-driver.json', 'tls.crt', 'tls.key'], 'files');
});

await h.check('bad names, collisions and oversize sets are refused without touching the files', async () => {
  const messages = [
    await expectKind(
      platform.writeFiles(vol.volumeId, [{ name: 'CON', data: text('x'), mode: 0 }]),
      'invalid-argument',
      'CON',
    ),
    await expectKind(
      platform.writeFiles(vol.volumeId, [...pair(3), { name: 'TLS.key', data: text('x'), mode: 0 }]),
      'invalid-argument',
      'case collision',
    ),
    await expectKind(
      platform.writeFiles(vol.volumeId, [{ name: 'big', data: new Uint8Array(65 * 1024), mode: 0 }]),
      'resource-exhausted',
      'oversize',
    ),
    await expectKind(platform.writeFiles('csi-unknown', pair(3)), 'not-found', 'unknown volume'),
  ];
  assertEqual(utf8(await platform.readFile(vol.volumeId, 'tls.key')), 'key 2', 'unchanged tls.key');
  return messages;
});

await h.check('bad target paths are refused; Wine itself would happily create them', async () => {
  const bad = [join(workDir, 'CON'), join(workDir, 'a..', 'b'), `${workDir}\\x?y`, '/var/lib/kubelet/x'];
  for (const targetPath of bad) {
    await expectKind(
      platform.createVolume({ volumeId: 'bad', targetPath, sizeBytes: 1 }),
      'invalid-argument',
      targetPath,
    );
  }
  await writeFile(join(workDir, 'CON'), 'Wine does not reserve device names on Z:');
  assert(await exists(join(workDir, 'CON')), 'Wine created CON');
});

await h.check('a target directory of another volume or with foreign files is not taken over', async () => {
  await expectKind(
    platform.createVolume({ volumeId: 'csi-other', targetPath: vol.targetPath, sizeBytes: 1 }),
    'failed-precondition',
    'other volume',
  );
  const foreign = target('pod-foreign');
  await mkdir(foreign, { recursive: true });
  await writeFile(join(foreign, 'notes.txt'), 'not ours');
  await expectKind(
    platform.createVolume({ volumeId: 'csi-f', targetPath: foreign, sizeBytes: 1 }),
    'failed-precondition',
    'foreign files',
  );
});

await h.check('a failed createVolume rolls back every directory it made', async () => {
  const blocker = join(workDir, 'pods', 'pod-b');
  await writeFile(blocker, 'a file where a directory must go');
  await expectKind(
    platform.createVolume({ volumeId: 'csi-b', targetPath: join(blocker, 'mount'), sizeBytes: 1 }),
    ['failed-precondition', 'not-found'],
    'parent is a file',
  );
  const deep = join(workDir, 'pods', 'pod-c', 'volumes', 'x', 'mount');
  const broken = new WindowsPlatform({ dataRoot: join(blocker, 'state'), onWarning: () => undefined });
  await expectKind(
    broken.createVolume({ volumeId: 'csi-c', targetPath: deep, sizeBytes: 1 }),
    ['failed-precondition', 'not-found'],
    'state not writable',
  );
  assertEqual(await exists(join(workDir, 'pods', 'pod-c')), false, 'rolled back pod-c');
});

await h.check('a concurrent reader never sees a partial or torn file', async () => {
  const race = { volumeId: 'csi-race', targetPath: target('pod-race') };
  await platform.createVolume({ ...race, sizeBytes: 1024 * 1024 });
  const report = await raceReaders(platform, race.volumeId, race.targetPath, 60);
  await platform.removeVolume(race);
  return report;
});

await h.check('a restarted driver finds its volumes through the state under dataRoot', async () => {
  const restarted = new WindowsPlatform({ dataRoot, onWarning: () => undefined });
  await restarted.writeFiles(vol.volumeId, pair(4));
  assertEqual(utf8(await restarted.readFile(vol.volumeId, 'ca.crt')), 'ca 4', 'ca.crt after restart');
  assertEqual(await restarted.isPublished(vol), true, 'isPublished after restart');
});

await h.check('removeVolume removes files, manifest and directory; foreign files stop it', async () => {
  await writeFile(join(vol.targetPath, 'dropped-by-someone'), 'x');
  await expectKind(platform.removeVolume(vol), 'failed-precondition', 'foreign file');
  assertEqual(await listDir(vol.targetPath), ['dropped-by-someone'], 'left in place');
  await rm(join(vol.targetPath, 'dropped-by-someone'));
  await platform.removeVolume(vol);
  assertEqual(await exists(vol.targetPath), false, 'target directory');
  assertEqual(await exists(join(workDir, 'pods', 'pod-a', 'volumes')), true, "kubelet's parent directory");
  await platform.removeVolume(vol);
  assertEqual(await platform.readFile(vol.volumeId, 'tls.key'), undefined, 'readFile after remove');
  await expectKind(platform.writeFiles(vol.volumeId, pair(5)), 'not-found', 'writeFiles after remove');
});

await h.check('ACLs: icacls is detected as unavailable or enforced, and a gap is reported once', async () => {
  assert(platform.aclStatus !== 'unknown', 'ACL status probed');
  if (platform.aclStatus === 'unavailable') assertEqual(warnings.length, 1, 'one warning');
  return { aclStatus: platform.aclStatus, warnings };
});

h.facts['aclStatus'] = platform.aclStatus;
await h.write(resultPath);
process.exit(0);

/** Whether fs.symlink really makes a link here (under Wine 8 it reports success and makes nothing). */
async function probeSymlink(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const link = join(dir, 'symlink-probe');
  try {
    await symlink(join(dir, 'nowhere'), link, 'file');
  } catch (e) {
    return `fails: ${(e as NodeJS.ErrnoException).code}`;
  }
  return (await lstat(link).catch(() => undefined))?.isSymbolicLink()
    ? 'works'
    : 'reports success but creates nothing';
}
