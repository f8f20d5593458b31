/**
 * Every `./scripts/NAME.sh` the README and docs tell a reader to run exists and is executable: a
 * script run as `./scripts/x.sh` without its executable bit fails with "Permission denied" even
 * though the suite itself starts it with `bash`.
 */
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/repo.js';

const DOCS = [
  'README.md',
  join('charts', 'csi-cert-driver', 'README.md'),
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

const scripts = [
  ...new Set(
    DOCS.flatMap((doc) =>
      [...readFileSync(join(REPO_ROOT, doc), 'utf8').matchAll(/\.\/(scripts\/[\w-]+\.sh)\b/g)].map(
        (m) => m[1]!,
      ),
    ),
  ),
].sort();

describe('commands the docs give', () => {
  it('name at least the README’s two commands', () => {
    expect(scripts).toEqual(expect.arrayContaining(['scripts/demo.sh', 'scripts/test.sh']));
  });

  it.each(scripts)('./%s exists and is executable', (script) => {
    expect(() => accessSync(join(REPO_ROOT, script), constants.X_OK)).not.toThrow();
  });
});
