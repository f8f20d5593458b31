// Builds the server into dist/main.mjs plus the chunks it imports on demand (dist/chunks/). Dependencies
// stay in node_modules; only our code (server, platform adapters) is bundled. esbuild puts a
// dependency's static import at the top of the chunk holding the module that imports it, so what a
// role loads at start is what its own modules import statically: main.mjs parses the settings and
// import()s the role's chunk; the node role's chunk imports neither NestJS nor reflect-metadata
// (docs/adr/0023-node-role-without-nestjs.md), and its REST API (roles/http-app.ts), the Kubernetes
// client (kube/client/kube-client.ts) and cert-manager mode are chunks of their own, loaded when first
// needed. Shared modules become shared chunks, so each module has one instance per process (the demo
// runs several roles in one). Then dist/node-snapshot.cjs, the node role for its startup snapshot
// (scripts/node-snapshot-bundle.mjs). Then Vite builds the React dashboard into dist/dashboard, which the
// server serves at `/`.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { build as buildDashboard } from 'vite';
import { SNAPSHOT_ROLES, buildNodeSnapshotBundle } from './node-snapshot-bundle.mjs';

// Chunk names carry a content hash: the last build's chunks go first, so dist/ holds one build.
rmSync('dist/chunks', { recursive: true, force: true });
await build({
  entryPoints: ['server/src/main.ts'],
  outdir: 'dist',
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
});
console.log('built dist/main.mjs and dist/chunks/');

// The node role as one script for its startup snapshot (docs/adr/0026-node-role-from-a-startup-snapshot.md);
// the blob itself is made by the node binary that runs it (bin/csi-cert-driver, the images).
for (const role of Object.keys(SNAPSHOT_ROLES)) {
  await buildNodeSnapshotBundle({ role });
  console.log(`built dist/${role}-snapshot.cjs`);
}

await buildDashboard({ configFile: 'dashboard/vite.config.ts' });
console.log('built dist/dashboard');
