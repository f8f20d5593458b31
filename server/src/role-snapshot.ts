/**
 * What every role's startup-snapshot entry does (`server/src/<role>-snapshot.ts`,
 * docs/adr/0026-node-role-from-a-startup-snapshot.md). scripts/build.mjs bundles each entry, its
 * role's modules and the packages they evaluate at start into `dist/<role>-snapshot.cjs`;
 * `bin/csi-cert-driver --build-snapshot <role>` (the images) runs it once with `node --build-snapshot`:
 * every module is evaluated, the role's .proto files are loaded, and V8 saves the heap. `node
 * --snapshot-blob dist/<role>-snapshot.blob <role> [--setting=value ...]` then starts from that heap
 * and runs the deserialize main registered here, which does what `dist/main.mjs <role>` does.
 *
 * Nothing that varies per run is read while the snapshot is built: no setting, no CA, no state, no
 * clock. A few variables are read by packages while they load (common/load-time-env.ts); when one is
 * set, the process starts from `dist/main.mjs` instead, which loads the packages afresh.
 */
import { loadTimeEnvSet } from './common/load-time-env.js';
import { dirname, join, resolve } from 'node:path';
import { startupSnapshot } from 'node:v8';
import { attachBundle, runtimeRequire } from './common/bundle-runtime.js';
import { protoDefinition, loadProto, type ProtoName } from './common/protos.js';
import { applyV8Defaults } from './common/v8-defaults.js';
import { runMain, type RoleLaunchers } from './cli.js';
import type { Role } from './config/config.js';

/** The directory of the blob this process was started from (`--snapshot-blob <file>`), i.e. dist/. */
function blobDirectory(execArgv: readonly string[]): string {
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '--snapshot-blob' && execArgv[i + 1]) return dirname(resolve(execArgv[i + 1]!));
    if (a.startsWith('--snapshot-blob=')) return dirname(resolve(a.slice('--snapshot-blob='.length)));
  }
  throw new Error('started without --snapshot-blob');
}

/**
 * Loads `protos` into the heap being saved and registers the main that runs `role` (with
 * `launchers`) once a process starts from the blob. Throws unless the snapshot is being built, and
 * when `internal/fs/promises` was loaded while building (see below).
 */
export function registerRoleSnapshot(
  role: Role,
  launchers: RoleLaunchers,
  protos: readonly ProtoName[],
): void {
  if (!startupSnapshot.isBuildingSnapshot())
    throw new Error(
      `dist/${role}-snapshot.cjs builds the ${role} role's snapshot: node --snapshot-blob <blob> --build-snapshot dist/${role}-snapshot.cjs`,
    );
  // proto-loader's reflection of the .proto files is most of grpc's start cost; it is saved with the heap.
  for (const proto of protos) {
    protoDefinition(proto);
    loadProto(proto);
  }
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
    attachBundle(join(dist, `${role}-snapshot.cjs`));
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
    runMain(process.argv.slice(1), launchers);
  });
}
