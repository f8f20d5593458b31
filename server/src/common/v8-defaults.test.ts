import { describe, expect, it } from 'vitest';
import { applyV8Defaults } from './v8-defaults.js';

describe('applyV8Defaults', () => {
  it.each([
    { name: 'plain node', execArgv: [], want: ['--heap-growing-percent=20'] },
    {
      name: 'other flags only',
      execArgv: ['--enable-source-maps', '--max-semi-space-size=2'],
      want: ['--heap-growing-percent=20'],
    },
    { name: "the operator's own value", execArgv: ['--heap-growing-percent=50'], want: [] },
    { name: 'the same flag spelt with underscores', execArgv: ['--heap_growing_percent=50'], want: [] },
  ])('$name', ({ execArgv, want }) => {
    const set: string[] = [];
    expect(applyV8Defaults(execArgv, (f) => set.push(f))).toEqual(want);
    expect(set).toEqual(want);
  });
});
