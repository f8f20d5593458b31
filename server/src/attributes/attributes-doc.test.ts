import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { renderAttributesDoc } from './attributes-doc.js';

it('docs/attributes.md is generated from the attribute table (run npx tsx scripts/gen-attributes-doc.ts)', () => {
  const have = readFileSync(new URL('../../../docs/attributes.md', import.meta.url), 'utf8');
  expect(have).toBe(renderAttributesDoc());
});
