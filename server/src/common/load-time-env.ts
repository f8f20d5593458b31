/**
 * Environment variables that a package of the node or issuer role reads once, as it loads: grpc-js's
 * logging, TLS and resolver settings, on-exit-leak-free's coverage check (pino). A role's startup
 * snapshot (server/src/role-snapshot.ts) holds the packages as they loaded, with these unset: it is
 * built without them (importing this module first, the build fails when one is set), and a process
 * that sets one starts from dist/main.mjs instead, which loads the packages afresh.
 */
import { startupSnapshot } from 'node:v8';

export const LOAD_TIME_ENV = [
  'GRPC_NODE_TRACE',
  'GRPC_TRACE',
  'GRPC_NODE_VERBOSITY',
  'GRPC_VERBOSITY',
  'GRPC_SSL_CIPHER_SUITES',
  'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH',
  'GRPC_NODE_USE_ALTERNATIVE_RESOLVER',
  'GRPC_NODE_DEBUG_SEND_ERROR_DETAILS',
  'GRPC_EXPERIMENTAL_ENABLE_OUTLIER_DETECTION',
  'NODE_V8_COVERAGE',
] as const;

/** The first of `LOAD_TIME_ENV` set in `env`, if any. */
export function loadTimeEnvSet(env: NodeJS.ProcessEnv): string | undefined {
  return LOAD_TIME_ENV.find((name) => env[name] !== undefined);
}

const set = startupSnapshot.isBuildingSnapshot() ? loadTimeEnvSet(process.env) : undefined;
if (set) throw new Error(`${set} is set while a role's snapshot is built; build it without (env -u ${set})`);
