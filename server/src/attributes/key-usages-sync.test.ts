import { expect, it } from 'vitest';
import { KEY_USAGES } from './key-usages.js';
import { KNOWN_USAGES } from '../pki/usages.js';

it('the attribute parser accepts exactly the usages the PKI code can encode', () => {
  expect([...KEY_USAGES].sort()).toEqual([...KNOWN_USAGES].sort());
});
