/** Helpers for tests (imported only by `*.test.ts` and other test helpers). */
import { expect } from 'vitest';

/** The error `fn` throws, checked to be a `type`; fails the test when it throws something else or nothing. */
export function thrownBy<E>(fn: () => unknown, type: abstract new (...args: never[]) => E): E {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(type);
  return err as E;
}
