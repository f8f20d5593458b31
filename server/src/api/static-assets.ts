import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Content-hashed file names (Vite's `assets/`) are cached for a year, the rest revalidated. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Where the built dashboard is: `dist/dashboard/` seen from the bundled server (`dist/main.mjs` or one
 * of its chunks in `dist/chunks/`), or the same folder seen from the sources (tests). Undefined when
 * the dashboard was not built.
 */
export function findDashboardDir(): string | undefined {
  const candidates = [
    new URL('./dashboard/', import.meta.url),
    new URL('../dashboard/', import.meta.url),
    new URL('../../../dist/dashboard/', import.meta.url),
  ];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

/**
 * The built dashboard, read into memory once (a few hundred kilobytes): requests are answered
 * from a map of exact URL paths, so no request can reach a file outside the folder.
 */
export async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const body = await readFile(p);
        const rel = relative(dir, p).split(sep).join('/');
        out.set(`/${rel}`, {
          body,
          type: TYPES[extname(p)] ?? 'application/octet-stream',
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  await walk(dir);
  const index = out.get('/index.html');
  if (index) out.set('/', index);
  return out;
}

export const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>csi-cert-driver</title>
<p>The dashboard is not part of this build (run <code>npm run build</code>).
The API is served: <a href="/api/v1/volumes">/api/v1/volumes</a>, <a href="/openapi.json">/openapi.json</a>.</p>`;
