import { describe, expect, it } from 'vitest';
import { loadIssuerConfig, loadNodeConfig } from './config.js';

const issuerBase = { CA_CERT_FILE: '/ca/tls.crt', CA_KEY_FILE: '/ca/tls.key', ISSUER_AUTH: 'none' };

describe('key pool, trust bundle, metrics and memory-trim settings', () => {
  it('defaults: a pool of 4 ECDSA-256 and RSA-2048 keys on one worker, bundle from the issuer every 10 s', () => {
    expect(loadNodeConfig([], {})).toMatchObject({
      keyPool: {
        size: 4,
        workers: 1,
        largeRsaWorkers: 1,
        shapes: [
          { algorithm: 'ECDSA', size: 256 },
          { algorithm: 'RSA', size: 2048 },
        ],
      },
      trustBundleRefreshMs: 10_000,
      memoryTrimIntervalMs: 10_000,
    });
    expect(loadNodeConfig([], {}).trustBundleFile).toBeUndefined();
    expect(loadNodeConfig([], {}).metricsListenAddr).toBeUndefined();
    expect(loadIssuerConfig([], issuerBase)).toMatchObject({
      caReloadIntervalMs: 10_000,
      caRotationDelayMs: 60_000,
    });
    expect(loadIssuerConfig([], issuerBase).metricsListenAddr).toBeUndefined();
  });

  it('reads every setting', () => {
    const node = loadNodeConfig(
      [
        '--key-pool-size=0',
        '--key-pool-shapes=Ed25519, RSA-4096 ,ECDSA-384',
        '--key-pool-workers=3',
        '--key-pool-large-rsa-workers=2',
        '--trust-bundle-file=/etc/bundle/ca.pem',
        '--trust-bundle-refresh=2s',
        '--metrics-listen-addr=0.0.0.0:9090',
        '--memory-trim-interval=1m',
      ],
      {},
    );
    expect(node).toMatchObject({
      keyPool: {
        size: 0,
        workers: 3,
        largeRsaWorkers: 2,
        shapes: [
          { algorithm: 'Ed25519', size: 0 },
          { algorithm: 'RSA', size: 4096 },
          { algorithm: 'ECDSA', size: 384 },
        ],
      },
      trustBundleFile: '/etc/bundle/ca.pem',
      trustBundleRefreshMs: 2000,
      metricsListenAddr: '0.0.0.0:9090',
      memoryTrimIntervalMs: 60_000,
    });
    expect(loadNodeConfig([], { MEMORY_TRIM_INTERVAL: '0s' }).memoryTrimIntervalMs).toBe(0);
    const issuer = loadIssuerConfig([], {
      ...issuerBase,
      CA_RELOAD_INTERVAL: '0s',
      CA_ROTATION_DELAY: '5m',
      METRICS_LISTEN_ADDR: '127.0.0.1:0',
    });
    expect(issuer).toMatchObject({
      caReloadIntervalMs: 0,
      caRotationDelayMs: 300_000,
      metricsListenAddr: '127.0.0.1:0',
    });
  });

  // A bad node lifecycle setting is named: in config.test.ts's table of every node setting.
  it.each([
    { env: { CA_RELOAD_INTERVAL: 'often' }, setting: 'CA_RELOAD_INTERVAL' },
    { env: { CA_ROTATION_DELAY: '-1m' }, setting: 'CA_ROTATION_DELAY' },
    { env: { METRICS_LISTEN_ADDR: ':x' }, setting: 'METRICS_LISTEN_ADDR' },
  ])('issuer: rejects a bad $setting, naming it', ({ env, setting }) => {
    expect(() => loadIssuerConfig([], { ...issuerBase, ...env })).toThrowError(new RegExp(`^${setting}: `));
  });
});
