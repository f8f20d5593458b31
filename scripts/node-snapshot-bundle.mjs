// Bundles a role's startup-snapshot entry (server/src/<role>-snapshot.ts; the roles of SNAPSHOT_ROLES)
// into one CommonJS script, dist/<role>-snapshot.cjs, which `node --build-snapshot` runs to save the
// role's heap (docs/adr/0026-node-role-from-a-startup-snapshot.md). Unlike dist/main.mjs, the
// packages the role evaluates at start are bundled in, because a snapshot's entry script can require only Node's
// built-in modules. Three kinds of imports are rewritten:
// - The role's packages and whatever they import are bundled and evaluated while the snapshot is
//   built, except RUN_TIME_PACKAGES and optional dependencies that are not installed.
// - Any other package (NestJS, @kubernetes/client-node, koffi's native addon, ...) is loaded at run
//   time, from the node_modules around dist/, by common/bundle-runtime.ts's runtimeRequire.
// - RUN_TIME_BUILTINS are not loaded while the snapshot is built. http, https, http2, tls and
//   worker_threads cannot be (Node 22 aborts: their native bindings cannot be serialised; a Worker
//   started later crashes if worker_threads was). fs/promises must not be: the blob is built without
//   V8's code cache, and Node 22.23 then cannot compile FileHandle's `close` (a class field arrow
//   function of internal/fs/promises) once a garbage collection has run after the start: it throws
//   "kFd is not defined" (every FileHandle close, so readFile, failed). Loaded at run time, the
//   module is compiled there and works. Each is a stand-in that loads the real module on first
//   use. Until then it answers with the module's property names and its plain-data properties
//   (e.g. http2.constants, which grpc-js reads as it loads), taken from this Node.
// `import.meta.url` becomes the bundle's own URL (bundleRuntime.moduleUrl).
// `new Intl.DateTimeFormat(` in a package (NestJS's ConsoleLogger) becomes bundleRuntime's lazy one:
// an ICU object cannot be saved in a snapshot.
// Writes dist/<role>-snapshot.cjs, dist/<role>-snapshot.config.json (how the blob is built) and
// dist/<role>-snapshot.sha256 (the hash of both, part of the key that tells bin/csi-cert-driver whether
// a blob is current).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';

/** The packages the node role evaluates at start (ADR 23's table); their dependencies come with them. */
export const SNAPSHOT_PACKAGES = ['@grpc/grpc-js', '@grpc/proto-loader', 'pino', 'prom-client'];
/**
 * The roles that start from a snapshot of their own: each one's entry (server/src/<role>-snapshot.ts)
 * and the packages evaluated while its snapshot is built. Each role's files are dist/<role>-snapshot.*.
 */
export const SNAPSHOT_ROLES = {
  node: SNAPSHOT_PACKAGES,
  issuer: [
    ...SNAPSHOT_PACKAGES,
    '@nestjs/common',
    '@nestjs/core',
    '@nestjs/microservices',
    'rxjs',
    'reflect-metadata',
  ],
};
/**
 * Packages a snapshot package may load but a role's start does not: left to the run time even when
 * a bundled package requires them (NestJS's HTTP adapter, Express and multer, for `NestFactory.create`).
 */
export const RUN_TIME_PACKAGES = ['@nestjs/platform-express'];
export const RUN_TIME_BUILTINS = ['http', 'https', 'http2', 'tls', 'worker_threads', 'fs/promises'];

const root = path.resolve(import.meta.dirname, '..');
const runtimeModule = path.join(root, 'server/src/common/bundle-runtime.ts');
const packageName = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** Whether a package's `require(id)` finds something. */
function resolvable(id, importer) {
  try {
    createRequire(importer).resolve(id);
    return true;
  } catch {
    return false;
  }
}

/** Each stand-in builtin's own property names and plain-data properties, from a fresh process. */
function builtinShapes() {
  const script = `
const plain = (v) => v === null || ['string', 'number', 'boolean'].includes(typeof v) ||
  (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(plain)) ||
  (Array.isArray(v) && v.every(plain));
const out = {};
for (const m of ${JSON.stringify(RUN_TIME_BUILTINS)}) {
  const mod = require(m);
  const data = {};
  const functions = [];
  for (const k of Object.keys(mod)) {
    if (plain(mod[k])) data[k] = mod[k];
    else if (typeof mod[k] === 'function') functions.push(k);
  }
  out[m] = { keys: Object.getOwnPropertyNames(mod), data, functions };
}
process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

function standIn(name, shape) {
  return `const shape = ${JSON.stringify(shape)};
let real;
const load = () => {
  if (real) return real;
  if (require('node:v8').startupSnapshot.isBuildingSnapshot())
    throw new Error('node:${name} is used while the snapshot is built; it can be loaded only at run time');
  return (real = require('node:${name}'));
};
// A function or class read before first use (\`const { Worker } = require('worker_threads')\`)
// forwards calls, \`new\` and property reads to the real one.
const forwarders = new Map();
const forwarder = (k) => {
  if (!forwarders.has(k)) {
    const f = new Proxy(function () {}, {
      apply: (_, self, args) => Reflect.apply(load()[k], self, args),
      construct: (_, args, target) => Reflect.construct(load()[k], args, target === f ? load()[k] : target),
      get: (_, p) => load()[k][p],
    });
    forwarders.set(k, f);
  }
  return forwarders.get(k);
};
module.exports = new Proxy({}, {
  get: (_, k) =>
    real ? real[k]
    : Object.hasOwn(shape.data, k) ? shape.data[k]
    : shape.functions.includes(k) ? forwarder(k)
    : load()[k],
  set: (_, k, v) => ((load()[k] = v), true),
  has: (_, k) => shape.keys.includes(k),
  ownKeys: () => shape.keys,
  getOwnPropertyDescriptor: (_, k) =>
    shape.keys.includes(k) ? { configurable: true, enumerable: true, writable: true, value: undefined } : undefined,
});`;
}

export async function buildNodeSnapshotBundle({ role = 'node', outfile = `dist/${role}-snapshot.cjs` } = {}) {
  const packages = SNAPSHOT_ROLES[role];
  const shapes = builtinShapes();
  const builtin = new RegExp(`^(node:)?(${RUN_TIME_BUILTINS.join('|')})$`);
  await build({
    entryPoints: [path.join(root, `server/src/${role}-snapshot.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // No comments or indentation: the script's source stays in the heap (and the blob) as one
    // string, one byte per character only if every character is Latin-1 (a comment's arrow made it
    // two: 3.8 MB instead of 1.35 MB).
    minifyWhitespace: true,
    tsconfig: path.join(root, 'tsconfig.json'),
    logLevel: 'warning',
    inject: [runtimeModule],
    define: { 'import.meta.url': 'bundleRuntime.moduleUrl' },
    plugins: [
      {
        name: 'node-snapshot',
        setup(b) {
          b.onResolve({ filter: /.*/ }, (a) => {
            if (a.namespace === 'builtin-stand-in') return { path: a.path, external: true };
            if (a.namespace === 'run-time') return undefined;
            if (builtin.test(a.path))
              return { path: a.path.replace(/^node:/, ''), namespace: 'builtin-stand-in' };
            const bare = !a.path.startsWith('.') && !path.isAbsolute(a.path) && !a.path.startsWith('node:');
            const fromPackage = a.importer.includes(`${path.sep}node_modules${path.sep}`);
            // A package's optional dependency that is not installed (NestJS's kafkajs, class-transformer,
            // @nestjs/websockets, ...): a run-time require, which throws as it would in dist/main.mjs.
            if (
              bare &&
              fromPackage &&
              (RUN_TIME_PACKAGES.includes(packageName(a.path)) || !resolvable(a.path, a.importer))
            )
              return { path: a.path, namespace: 'run-time' };
            if (
              bare &&
              !fromPackage &&
              !a.path.startsWith('@csi-cert-driver/') &&
              !packages.includes(packageName(a.path))
            )
              return { path: a.path, namespace: 'run-time' };
            return undefined;
          });
          // An ICU object made as a package loads cannot be saved: made on first use instead.
          b.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, (a) => {
            const text = readFileSync(a.path, 'utf8');
            if (!text.includes('new Intl.DateTimeFormat(')) return undefined;
            return {
              loader: 'js',
              contents: text.replaceAll('new Intl.DateTimeFormat(', 'lazyDateTimeFormat('),
            };
          });
          b.onLoad({ filter: /.*/, namespace: 'builtin-stand-in' }, (a) => ({
            loader: 'js',
            contents: standIn(a.path, shapes[a.path]),
          }));
          b.onLoad({ filter: /.*/, namespace: 'run-time' }, (a) => ({
            loader: 'js',
            resolveDir: root,
            contents: `module.exports = require(${JSON.stringify(runtimeModule)}).runtimeRequire(${JSON.stringify(a.path)});`,
          }));
        },
      },
    ],
  });
  // How `node --build-snapshot-config` builds the blob (run in dist/). Without V8's code cache for
  // the functions compiled while building: the blob is 5.3 MB instead of 10 MB and the node ~4.5 MiB
  // smaller, idle and with 110 volumes; the start's CPU is unchanged within the noise, the REST
  // API's first request costs ~100 ms more (docs/adr/0026-node-role-from-a-startup-snapshot.md;
  // fs/promises above).
  const dir = path.dirname(outfile);
  const config = `${JSON.stringify({ builder: path.basename(outfile), withoutCodeCache: true })}\n`;
  writeFileSync(path.join(dir, `${role}-snapshot.config.json`), config);
  // The key covers what the blob holds: the bundle, its build config, and the .proto files the
  // build loads into the heap (a changed .proto leaves the bundle byte-identical).
  const hasher = createHash('sha256').update(readFileSync(outfile)).update(config);
  for (const name of readdirSync(path.join(root, 'proto')).sort()) {
    if (name.endsWith('.proto'))
      hasher.update(`${name}\0`).update(readFileSync(path.join(root, 'proto', name)));
  }
  const hash = hasher.digest('hex');
  writeFileSync(path.join(dir, `${role}-snapshot.sha256`), `${hash}\n`);
  return hash;
}
