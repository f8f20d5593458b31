import { thrownBy } from '../common/testing.js';
import { ConfigError } from './settings.js';

/** The ConfigError `load` throws; fails the test when it throws something else or nothing. */
export function configErrorOf(load: () => unknown): ConfigError {
  return thrownBy(load, ConfigError);
}

/** Rows of one bad setting each (`{ VOLUME_SIZE: '1 MB' }`) as `it.each` cases with the setting they name. */
export function badSettings(
  rows: Record<string, string>[],
): { env: Record<string, string>; setting: string }[] {
  return rows.map((env) => ({ env, setting: Object.keys(env)[0]! }));
}
