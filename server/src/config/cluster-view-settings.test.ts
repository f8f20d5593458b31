import { describe, expect, it } from 'vitest';
import { loadClusterViewConfig } from './cluster-view-settings.js';
import { badSettings, configErrorOf } from './testing.js';

describe('loadClusterViewConfig', () => {
  it('applies the defaults the chart relies on', () => {
    expect(loadClusterViewConfig([], {})).toEqual({
      logLevel: 'info',
      kubeconfig: undefined,
      listenAddr: '0.0.0.0:8080',
      allowedHosts: [],
      corsOrigins: [],
      staleGraceMs: 300_000,
      caBundleFile: undefined,
    });
  });

  it('reads flags and env like the other roles', () => {
    const cfg = loadClusterViewConfig(
      ['--stale-after=30s', '--api-allowed-hosts=View.Example.org, 10.0.0.1,::1'],
      { CA_BUNDLE_FILE: '/ca/tls.crt', API_CORS_ORIGINS: 'https://ops.example.com', KUBECONFIG: '/k' },
    );
    expect(cfg).toMatchObject({
      staleGraceMs: 30_000,
      allowedHosts: ['view.example.org', '10.0.0.1', '::1'],
      corsOrigins: ['https://ops.example.com'],
      caBundleFile: '/ca/tls.crt',
      kubeconfig: '/k',
    });
  });

  it.each(
    badSettings([
      { LOG_LEVEL: 'loud' },
      { API_LISTEN_ADDR: 'nowhere' },
      { API_ALLOWED_HOSTS: 'a b' },
      { API_ALLOWED_HOSTS: `${'a'.repeat(250)}.org` },
      { API_CORS_ORIGINS: 'ops.example.com' },
      { API_CORS_ORIGINS: 'https://ops.example.com/path' },
      { STALE_AFTER: '29s' },
      { STALE_AFTER: 'soon' },
      { CA_BUNDLE_FILE: 'relative/ca.crt' },
    ]),
  )('refuses a bad $setting', ({ env, setting }) => {
    expect(configErrorOf(() => loadClusterViewConfig([], env)).setting).toBe(setting);
  });
});
