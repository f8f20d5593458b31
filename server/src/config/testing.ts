import { thrownBy } from '../common/testing.js';
import { ConfigError } from './settings.js';

/** The ConfigError `load` throws; fails the test when it throws something else or nothing. */
export function configErrorOf(load: () => unknown): ConfigError {
  return thrownBy(load, ConfigError);
}
