import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, MAX_QUOTED_VALUE, MAX_STATUS_MESSAGE } from '../common/errors.js';
import { ATTRIBUTES } from './attribute-table.js';
import { parse } from './test-helpers.js';

// Values far beyond the gRPC edge's own limit, so the core's messages are bounded on their own.
const SHAPES = [
  { shape: 'one long token', value: 'a'.repeat(300_000) },
  { shape: 'a long list', value: Array.from({ length: 30_000 }, (_, i) => `n${i}.example.com`).join(',') },
  { shape: 'an unterminated variable', value: `\${${'A'.repeat(300_000)}` },
];

describe.each(SHAPES)('an attribute value of $shape', ({ value }) => {
  it.each(ATTRIBUTES.map((a) => a.name))('%s is refused or taken with a bounded message', (name) => {
    const attrs: Record<string, string> = { [name]: value };
    if (name.startsWith('pkcs12-') && name !== 'pkcs12-enable') attrs['pkcs12-enable'] = 'true';
    try {
      parse(attrs);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      const msg = (e as Error).message;
      expect(msg.length).toBeLessThanOrEqual(MAX_STATUS_MESSAGE);
      // At most a prefix of the value is quoted.
      expect(msg).not.toContain(value.slice(0, MAX_QUOTED_VALUE + 1));
    }
  });
});
