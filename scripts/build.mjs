// Builds the server into one ESM file (dist/main.mjs). Dependencies stay in node_modules; only our
// code (server, platform adapters) is bundled. One file, no code splitting: esbuild hoists a
// dependency's static imports to the top of the bundle, so every role would load it at start; a
// dependency only some features need is loaded with import() instead, which stays lazy in the bundle
// (@kubernetes/client-node: server/src/kube/client/kube-client.ts, ~60–85 MiB the node role does not pay
// without a Kubernetes feature). Then Vite builds the React dashboard into dist/dashboard,
// which the server serves at `/`.
import { build } from 'esbuild';
import { build as buildDashboard } from 'vite';

await build({
  entryPoints: ['server/src/main.ts'],
  outfile: 'dist/main.mjs',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  tsconfig: 'tsconfig.json',
  logLevel: 'warning',
});
console.log('built dist/main.mjs');

await buildDashboard({ configFile: 'dashboard/vite.config.ts' });
console.log('built dist/dashboard');
