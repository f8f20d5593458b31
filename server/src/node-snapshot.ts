/**
 * The node role from a startup snapshot (docs/adr/0026-node-role-from-a-startup-snapshot.md).
 * scripts/build.mjs bundles this file, the node role and the packages it evaluates at start into
 * `dist/node-snapshot.cjs`; `node --snapshot-blob dist/node-snapshot.blob --build-snapshot-config
 * dist/node-snapshot.config.json` (`bin/csi-cert-driver --build-node-snapshot`, the images) runs it
 * once: it evaluates every module, loads the .proto files, and V8 saves the heap. `node --snapshot-blob dist/node-snapshot.blob node
 * [--setting=value ...]` then starts from that heap and runs the deserialize main below, which
 * does what `dist/main.mjs node` does: settings from flags and the environment, state recovery,
 * CSI served.
 *
 * Nothing that varies per run is read while the snapshot is built: no setting, no state, no clock.
 * A few variables are read by packages while they load (common/load-time-env.ts); when one is
 * set, the process starts from `dist/main.mjs` instead, which loads the packages afresh.
 */
// Refuses to build the snapshot while a variable that packages read as they load is set.
import { loadTimeEnvSet } from './common/load-time-env.js';
import { dirname, join, resolve } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { attachBundle, runtimeRequire } from './common/bundle-runtime.js';
import { loadProto } from './common/protos.js';
import { applyV8Defaults } from './common/v8-defaults.js';
import { launchNode, runMain } from './cli.js';
// Evaluated now, so its whole static graph (grpc-js, protobufjs, pino, prom-client) is in the snapshot.
import './roles/node.role.js';

/** The directory of the blob this process was started from (`--snapshot-blob <file>`), i.e. dist/. */
function blobDirectory(execArgv: readonly string[]): string {
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '--snapshot-blob' && execArgv[i + 1]) return dirname(resolve(execArgv[i + 1]!));
    if (a.startsWith('--snapshot-blob=')) return dirname(resolve(a.slice('--snapshot-blob='.length)));
  }
  throw new Error('started without --snapshot-blob');
}

if (!startupSnapshot.isBuildingSnapshot())
  throw new Error(
    'dist/node-snapshot.cjs builds the node role snapshot: node --snapshot-blob <blob> --build-snapshot dist/node-snapshot.cjs',
  );
// proto-loader's reflection of the .proto files is most of grpc's start cost; it is saved with the heap.
for (const proto of ['csi.proto', 'issuer.proto', 'pluginregistration.proto'] as const) loadProto(proto);
// The blob holds no code cache, and Node 22.23 then cannot compile FileHandle's close once a garbage
// collection ran when internal/fs/promises was loaded while building: fs/promises is a stand-in
// loaded at run time (scripts/node-snapshot-bundle.mjs). A package that loads it as it loads
// (e.g. through `fs.promises`) fails the build here instead of every file read after the start.
const loaded = (process as unknown as { moduleLoadList?: readonly string[] }).moduleLoadList;
if (loaded?.includes('NativeModule internal/fs/promises'))
  throw new Error(
    'internal/fs/promises was loaded while the snapshot was built; it may be loaded only at run time (docs/adr/0026-node-role-from-a-startup-snapshot.md)',
  );

startupSnapshot.setDeserializeMainFunction(() => {
  const dist = blobDirectory(process.execArgv);
  attachBundle(join(dist, 'node-snapshot.cjs'));
  const set = loadTimeEnvSet(process.env);
  if (set) {
    const main = join(dist, 'main.mjs');
    process.stderr.write(
      `csi-cert-driver: ${set} is set, which a package reads as it loads; starting from ${main}\n`,
    );
    // dist/main.mjs reads its arguments after the script's path.
    process.argv.splice(1, 0, main);
    runtimeRequire(main);
    return;
  }
  applyV8Defaults();
  runMain(process.argv.slice(1), { node: launchNode });
});
