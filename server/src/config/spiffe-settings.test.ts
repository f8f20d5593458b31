import { describe, expect, it } from 'vitest';
import { loadNodeConfig } from './config.js';
import { configErrorOf } from './testing.js';

describe('node SPIFFE mode settings', () => {
  it('is off by default', () => {
    expect(loadNodeConfig([], {}).spiffe).toBeUndefined();
  });

  it('is on with SPIFFE_TRUST_DOMAIN, with a 1h duration and P-256 by default', () => {
    expect(loadNodeConfig(['--spiffe-trust-domain=example.org'], {}).spiffe).toEqual({
      trustDomain: 'example.org',
      durationSeconds: 3600,
      ecdsaSize: 256,
    });
    expect(
      loadNodeConfig([], {
        SPIFFE_TRUST_DOMAIN: 'example.org',
        SPIFFE_CERTIFICATE_DURATION: '24h',
        SPIFFE_KEY_SIZE: '384',
      }).spiffe,
    ).toEqual({ trustDomain: 'example.org', durationSeconds: 86400, ecdsaSize: 384 });
  });

  it.each([
    { env: { SPIFFE_TRUST_DOMAIN: 'Example.ORG' }, setting: 'SPIFFE_TRUST_DOMAIN' },
    {
      env: { SPIFFE_TRUST_DOMAIN: 'example.org', SPIFFE_CERTIFICATE_DURATION: '30s' },
      setting: 'SPIFFE_CERTIFICATE_DURATION',
    },
    { env: { SPIFFE_TRUST_DOMAIN: 'example.org', SPIFFE_KEY_SIZE: '2048' }, setting: 'SPIFFE_KEY_SIZE' },
    { env: { SPIFFE_KEY_SIZE: '384' }, setting: 'SPIFFE_KEY_SIZE' },
  ])('refuses a bad $setting', ({ env, setting }) => {
    const err = configErrorOf(() => loadNodeConfig([], env));
    expect(err.setting).toBe(setting);
  });
});
