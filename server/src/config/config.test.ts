import { describe, expect, it } from 'vitest';
import { loadIssuerConfig, loadNodeConfig } from './config.js';
import { ConfigError } from './settings.js';
import { badSettings } from './testing.js';

const issuerBase = { CA_CERT_FILE: '/ca/tls.crt', CA_KEY_FILE: '/ca/tls.key', ISSUER_AUTH: 'none' };

describe('node config', () => {
  it('applies the primary spec defaults', () => {
    const c = loadNodeConfig([], {});
    expect(c).toMatchObject({
      csiEndpoint: 'unix:///csi/csi.sock',
      certServiceAddr: 'cert-service:50051',
      certBasePath: '/var/lib/csi-certs',
      kubeletRootDir: '/var/lib/kubelet',
      clusterDomain: 'cluster.local',
      logLevel: 'info',
      volumeSizeBytes: 1024 * 1024,
      issuerTokenAudience: 'csi.k8s.cert-driver',
    });
    expect(c.nodeId.length).toBeGreaterThan(0);
  });

  it('lets a flag override the environment', () => {
    const c = loadNodeConfig(['--node-id=n1', '--cluster-domain', 'example.org'], {
      NODE_ID: 'env',
      CLUSTER_DOMAIN: 'x.local',
    });
    expect(c.nodeId).toBe('n1');
    expect(c.clusterDomain).toBe('example.org');
  });

  it.each(
    badSettings([
      { CSI_ENDPOINT: 'tcp://1.2.3.4:5' },
      { CERT_BASE_PATH: 'relative/path' },
      { CERT_SERVICE_ADDR: 'no port' },
      { CLUSTER_DOMAIN: 'Bad_Domain' },
      { LOG_LEVEL: 'loud' },
      { VOLUME_SIZE: '1 MB' },
      { ISSUER_TIMEOUT: 'soon' },
      // lifecycle: key pool, trust bundle, metrics, memory trim
      { KEY_POOL_SIZE: '-1' },
      { KEY_POOL_LARGE_RSA_WORKERS: '0' },
      { KEY_POOL_LARGE_RSA_WORKERS: '17' },
      { KEY_POOL_SHAPES: 'RSA-1024' },
      { KEY_POOL_SHAPES: 'ECDSA-255' },
      { KEY_POOL_SHAPES: 'DSA-2048' },
      { KEY_POOL_WORKERS: '0' },
      { TRUST_BUNDLE_FILE: 'relative.pem' },
      { TRUST_BUNDLE_REFRESH: '0s' },
      { METRICS_LISTEN_ADDR: 'nowhere' },
      { MEMORY_TRIM_INTERVAL: 'off' },
      { MEMORY_TRIM_INTERVAL: '-10s' },
    ]),
  )('rejects a bad $setting, naming it', ({ env, setting }) => {
    expect(() => loadNodeConfig([], env)).toThrowError(ConfigError);
    expect(() => loadNodeConfig([], env)).toThrowError(new RegExp(`^${setting}: `));
  });

  it.each([
    '\\\\.\\pipe\\csi',
    '//./pipe/csi',
    'npipe://./pipe/csi',
    'npipe:////./pipe/csi',
    'unix:\\\\.\\pipe\\csi',
    'unix://./pipe/csi',
    'unix:////./pipe/csi',
  ])('accepts the Windows named pipe spelling %s as CSI_ENDPOINT', (endpoint) => {
    expect(loadNodeConfig([], { CSI_ENDPOINT: endpoint }).csiEndpoint).toBe(endpoint);
  });

  it('rejects an unknown flag', () => {
    expect(() => loadNodeConfig(['--csi-endpont=/x'], {})).toThrowError(/--csi-endpont: unknown flag/);
  });
});

describe('issuer config', () => {
  it('requires ISSUER_AUTH to be explicit', () => {
    expect(() => loadIssuerConfig([], { ...issuerBase, ISSUER_AUTH: undefined })).toThrowError(
      /^ISSUER_AUTH: is required/,
    );
    expect(() => loadIssuerConfig([], { ...issuerBase, ISSUER_AUTH: 'maybe' })).toThrowError(
      /^ISSUER_AUTH: must be one of none/,
    );
  });

  it.each(['CA_CERT_FILE', 'CA_KEY_FILE'])('requires %s', (name) => {
    expect(() => loadIssuerConfig([], { ...issuerBase, [name]: undefined })).toThrowError(
      new RegExp(`^${name}: is required`),
    );
  });

  it('parses listen address and duration bounds', () => {
    const c = loadIssuerConfig(['--listen-addr=127.0.0.1:7000', '--max-duration=24h'], issuerBase);
    expect(c.listenAddr).toBe('127.0.0.1:7000');
    expect(c.maxDurationSeconds).toBe(86400);
    expect(() => loadIssuerConfig(['--min-duration=48h', '--max-duration=24h'], issuerBase)).toThrowError(
      /^MIN_DURATION/,
    );
    expect(() => loadIssuerConfig(['--listen-addr=1.2.3.4:99999'], issuerBase)).toThrowError(/^LISTEN_ADDR/);
  });
});

describe('issuer LISTEN_ADDR', () => {
  /** Each accepted LISTEN_ADDR and the address the issuer listens on. */
  const ACCEPTED: Record<string, string> = {
    'unix:///run/csi/issuer.sock': 'unix:///run/csi/issuer.sock',
    ':50051': '0.0.0.0:50051',
    '[::1]:7000': '[::1]:7000',
  };
  it.each(Object.entries(ACCEPTED))('accepts %s', (v, want) => {
    expect(loadIssuerConfig([`--listen-addr=${v}`], issuerBase).listenAddr).toBe(want);
  });
  it.each(['unix:relative.sock', 'unix://host/x', 'nohost'])('rejects %s naming LISTEN_ADDR', (v) => {
    expect(() => loadIssuerConfig([`--listen-addr=${v}`], issuerBase)).toThrowError(/^LISTEN_ADDR: /);
  });
});
