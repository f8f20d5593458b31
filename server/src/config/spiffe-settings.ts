/**
 * The node's SPIFFE mode settings (attributes/spiffe-mode.ts): SPIFFE_TRUST_DOMAIN switches it on
 * for every volume of the driver; SPIFFE_CERTIFICATE_DURATION and SPIFFE_KEY_SIZE fix the duration
 * and the ECDSA curve. Errors name the setting.
 */
import type { SpiffeMode } from '../attributes/spiffe-mode.js';
import { ConfigError, valueOf, type RawSettings, type SettingsTable } from './settings.js';
import * as p from './parsers.js';

export const SPIFFE_TABLE = {
  SPIFFE_TRUST_DOMAIN: { help: '(unset: SPIFFE mode off)' },
  SPIFFE_CERTIFICATE_DURATION: { default: '1h' },
  SPIFFE_KEY_SIZE: { default: '256' },
} as const satisfies SettingsTable;

/** `{ spiffe }` when SPIFFE_TRUST_DOMAIN is set; the other two settings are refused without it. */
export function nodeSpiffeSettings(s: RawSettings): { spiffe?: SpiffeMode } {
  const td = s.get('SPIFFE_TRUST_DOMAIN');
  if (td === undefined) {
    for (const name of ['SPIFFE_CERTIFICATE_DURATION', 'SPIFFE_KEY_SIZE'] as const) {
      if (s.has(name)) throw new ConfigError(name, 'only applies with SPIFFE_TRUST_DOMAIN set');
    }
    return {};
  }
  const durationSeconds = p.durationSeconds(
    'SPIFFE_CERTIFICATE_DURATION',
    valueOf(s, SPIFFE_TABLE, 'SPIFFE_CERTIFICATE_DURATION'),
  );
  if (durationSeconds < 60 || durationSeconds > 8760 * 3600) {
    throw new ConfigError('SPIFFE_CERTIFICATE_DURATION', 'must be between 1m and 8760h');
  }
  const size = valueOf(s, SPIFFE_TABLE, 'SPIFFE_KEY_SIZE');
  if (!['256', '384', '521'].includes(size)) {
    throw new ConfigError('SPIFFE_KEY_SIZE', `must be an ECDSA curve size 256, 384 or 521, got '${size}'`);
  }
  return {
    spiffe: { trustDomain: p.domain('SPIFFE_TRUST_DOMAIN', td), durationSeconds, ecdsaSize: Number(size) },
  };
}
