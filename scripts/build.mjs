// Builds the server into one ESM file (dist/main.mjs). Dependencies stay in node_modules; only our
// code (server, platform adapters) is bundled. The dashboard build joins here when it lands.
import { build } from 'esbuild';

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
