import { expect } from 'vitest';
import { ConfigError } from './settings.js';

/** The ConfigError `load` throws; fails the test when it throws something else or nothing. */
export function configErrorOf(load: () => unknown): ConfigError {
  let err: unknown;
  try {
    load();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}
