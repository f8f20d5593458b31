// Builds the server into one ESM file (dist/main.mjs). Dependencies stay in node_modules; only our
// code (server, platform adapters) is bundled. Then Vite builds the React dashboard into dist/dashboard,
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
