// Writes docs/attributes.md from the attribute table in server/src/attributes (the single source).
// `--check` exits 1 when the file is out of date (used by the unit tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { renderAttributesDoc } from '../server/src/attributes/attributes-doc.js';

const file = new URL('../docs/attributes.md', import.meta.url);
const want = renderAttributesDoc();
if (process.argv.includes('--check')) {
  const have = readFileSync(file, 'utf8');
  if (have !== want) {
    console.error('docs/attributes.md is out of date: run npx tsx scripts/gen-attributes-doc.ts');
    process.exit(1);
  }
} else {
  writeFileSync(file, want);
  console.log('wrote docs/attributes.md');
}
