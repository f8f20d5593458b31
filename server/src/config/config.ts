import { hostname } from 'node:os';
import { ConfigError, readSettings, type RawSettings } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';
import { parseDnsPatterns } from '../issuer/auth/dns-patterns.js';
import type { KeyShape } from '../pki/keys.js';
import { APPROVER_DEFAULTS } from './approver-settings.js';
import { CLUSTER_VIEW_DEFAULTS } from '../cluster-view/settings.js';
import { SPIFFE_DEFAULTS, SPIFFE_SETTINGS, nodeSpiffeSettings } from './spiffe-settings.js';
import type { SpiffeMode } from '../attributes/spiffe-mode.js';
import {
  STATUS_DEFAULTS,
  STATUS_SETTINGS,
  nodeStatusSettings,
  type NodeStatusSettings,
} from './status-settings.js';
import {
  CERT_MANAGER_DEFAULTS,
  CERT_MANAGER_SETTINGS,
  certManagerSettings,
  type CertManagerConfig,
} from './cert-manager-settings.js';
import {
  REGISTRATION_DEFAULTS,
  REGISTRATION_SETTINGS,
  nodeRegistrationSettings,
  type RegistrationSettings,
} from './registration-settings.js';

export type { CertManagerConfig } from './cert-manager-settings.js';

export const ROLES = ['node', 'issuer', 'demo', 'approver', 'cluster-view'] as const;
export type Role = (typeof ROLES)[number];

export const DRIVER_NAME = 'csi.k8s.cert-driver';

export interface CommonConfig {
  logLevel: LogLevel;
}

export interface NodeConfig extends CommonConfig, RegistrationSettings {
  csiEndpoint: string;
  nodeId: string;
  /** gRPC target of the issuer. */
  certServiceAddr: string;
  certBasePath: string;
  clusterDomain: string;
  /** tmpfs size per volume. */
  volumeSizeBytes: number;
  /** Per-RPC deadline for calls to the issuer. */
  issuerTimeoutMs: number;
  /** `host:port` of the read-only REST API and dashboard; undefined = not served. */
  apiListenAddr?: string | undefined;
  /** Origins allowed to read the API cross-origin; empty = CORS closed. */
  apiCorsOrigins?: string[] | undefined;
  /** KEY_POOL_SIZE/SHAPES/WORKERS: warm keys per shape; undefined or size 0 = keys generated on demand. */
  keyPool?: { size: number; shapes: KeyShape[]; workers: number } | undefined;
  /** TRUST_BUNDLE_FILE: every volume's ca.crt comes from this PEM file instead of the issuer. */
  trustBundleFile?: string | undefined;
  /** TRUST_BUNDLE_REFRESH: how often the trust bundle is fetched again; default 10 s. */
  trustBundleRefreshMs?: number | undefined;
  /** METRICS_LISTEN_ADDR: a separate `host:port` for /metrics (also served on the API); undefined = none. */
  metricsListenAddr?: string | undefined;
  /** MEMORY_TRIM_INTERVAL: how often freed native memory is given back after busy periods; 0 = never (ADR 15). */
  memoryTrimIntervalMs?: number | undefined;
  /** KUBECONFIG of the node's Kubernetes features; undefined = the in-cluster config. */
  kubeconfig?: string | undefined;
  /** STATUS_OBJECTS/POD_EVENTS/STATUS_QPS/STATUS_BURST; undefined = status objects and Events off. */
  status?: NodeStatusSettings | undefined;
  /** SPIFFE_TRUST_DOMAIN/_CERTIFICATE_DURATION/_KEY_SIZE: every volume gets its SVID; undefined = off. */
  spiffe?: SpiffeMode | undefined;
  /** CERT_MANAGER_*: volumes with issuer-name are signed by cert-manager; undefined = off (docs/cert-manager.md). */
  certManager?: CertManagerConfig | undefined;
}

export type IssuerAuth = 'none' | 'kubernetes';

/** Settings of ISSUER_AUTH=kubernetes (see docs/security.md). */
export interface KubernetesAuthConfig {
  /** ISSUER_TOKEN_AUDIENCE: the audience of the pod tokens the node forwards (CSIDriver tokenRequests). */
  tokenAudience: string;
  clusterDomain: string;
  /** TRUST_DOMAIN: the SPIFFE trust domain of `spiffe://<td>/ns/<ns>/sa/<sa>`. */
  trustDomain: string;
  /** ISSUER_ALLOWED_DNS_NAMES: extra DNS-name patterns a pod may request. */
  allowedDnsNames: string[];
}

interface IssuerSettings extends CommonConfig {
  listenAddr: string;
  /** CA files; '' when the CA comes from `caSecret`. */
  caCertFile: string;
  caKeyFile: string;
  /** CA_SECRET_NAME/CA_SECRET_NAMESPACE: the CA's kubernetes.io/tls Secret, watched for rotation. */
  caSecret?: { name: string; namespace: string } | undefined;
  /** KUBECONFIG; undefined = the in-cluster config. */
  kubeconfig?: string | undefined;
  maxDurationSeconds: number;
  minDurationSeconds: number;
  allowCA: boolean;
  /** CA_RELOAD_INTERVAL: how often CA_CERT_FILE/CA_KEY_FILE are checked for a new CA; 0 = never. Default 10 s. */
  caReloadIntervalMs?: number | undefined;
  /** CA_ROTATION_DELAY: how long a new CA is only trusted before it signs. Default 1 min. */
  caRotationDelayMs?: number | undefined;
  /** CA_STATE_DIR: where the CA rotation is saved to survive restarts; undefined = kept in memory only. */
  caStateDir?: string | undefined;
  /** METRICS_LISTEN_ADDR: `host:port` of the issuer's Prometheus /metrics; undefined = not served. */
  metricsListenAddr?: string | undefined;
}

export type IssuerConfig = IssuerSettings &
  ({ issuerAuth: 'none' } | { issuerAuth: 'kubernetes'; kubernetesAuth: KubernetesAuthConfig });

export interface DemoConfig extends CommonConfig {
  demoDir: string;
  clusterDomain: string;
  /** 0 = run until interrupted. */
  demoRunSeconds: number;
  apiListenAddr?: string | undefined;
  apiCorsOrigins?: string[] | undefined;
}

const COMMON = ['LOG_LEVEL'] as const;
const NODE = [
  ...COMMON,
  'CSI_ENDPOINT',
  'NODE_ID',
  'CERT_SERVICE_ADDR',
  'CERT_BASE_PATH',
  'CLUSTER_DOMAIN',
  'VOLUME_SIZE',
  'ISSUER_TIMEOUT',
  'API_LISTEN_ADDR',
  'API_CORS_ORIGINS',
  'KEY_POOL_SIZE',
  'KEY_POOL_SHAPES',
  'KEY_POOL_WORKERS',
  'TRUST_BUNDLE_FILE',
  'TRUST_BUNDLE_REFRESH',
  'METRICS_LISTEN_ADDR',
  'MEMORY_TRIM_INTERVAL',
  ...STATUS_SETTINGS,
  ...SPIFFE_SETTINGS,
  ...CERT_MANAGER_SETTINGS,
  ...REGISTRATION_SETTINGS,
] as const;
const ISSUER = [
  ...COMMON,
  'LISTEN_ADDR',
  'CA_CERT_FILE',
  'CA_KEY_FILE',
  'ISSUER_AUTH',
  'MAX_DURATION',
  'MIN_DURATION',
  'ALLOW_CA',
  'CA_SECRET_NAME',
  'CA_SECRET_NAMESPACE',
  'KUBECONFIG',
  'ISSUER_TOKEN_AUDIENCE',
  'CLUSTER_DOMAIN',
  'TRUST_DOMAIN',
  'ISSUER_ALLOWED_DNS_NAMES',
  'CA_RELOAD_INTERVAL',
  'CA_ROTATION_DELAY',
  'CA_STATE_DIR',
  'METRICS_LISTEN_ADDR',
] as const;
const DEMO = [
  ...COMMON,
  'DEMO_DIR',
  'CLUSTER_DOMAIN',
  'DEMO_RUN_SECONDS',
  'API_LISTEN_ADDR',
  'API_CORS_ORIGINS',
] as const;

/** Every setting each role accepts, with its default ("" = required). Used for `--help` and docs. */
export const SETTINGS: Record<Role, Record<string, string>> = {
  node: {
    LOG_LEVEL: 'info',
    CSI_ENDPOINT: 'unix:///csi/csi.sock',
    NODE_ID: '(hostname)',
    CERT_SERVICE_ADDR: 'http://cert-service:50051',
    CERT_BASE_PATH: '/var/lib/csi-certs',
    CLUSTER_DOMAIN: 'cluster.local',
    VOLUME_SIZE: '1Mi',
    ISSUER_TIMEOUT: '10s',
    API_LISTEN_ADDR: '127.0.0.1:8080',
    API_CORS_ORIGINS: '(none: CORS closed)',
    KEY_POOL_SIZE: '4',
    KEY_POOL_SHAPES: 'ECDSA-256,RSA-2048',
    KEY_POOL_WORKERS: '1',
    TRUST_BUNDLE_FILE: "(unset: the issuer's CA bundle)",
    TRUST_BUNDLE_REFRESH: '10s',
    METRICS_LISTEN_ADDR: '(off; /metrics is also on the API)',
    MEMORY_TRIM_INTERVAL: '10s',
    ...STATUS_DEFAULTS,
    ...SPIFFE_DEFAULTS,
    ...CERT_MANAGER_DEFAULTS,
    ...REGISTRATION_DEFAULTS,
  },
  issuer: {
    LOG_LEVEL: 'info',
    LISTEN_ADDR: '0.0.0.0:50051',
    CA_CERT_FILE: '',
    CA_KEY_FILE: '',
    ISSUER_AUTH: '(kubernetes in a pod, else required)',
    MAX_DURATION: '720h',
    MIN_DURATION: '1m',
    ALLOW_CA: 'false',
    CA_SECRET_NAME: '(unset: CA_CERT_FILE/CA_KEY_FILE)',
    CA_SECRET_NAMESPACE: 'kube-system',
    KUBECONFIG: '(in-cluster config)',
    ISSUER_TOKEN_AUDIENCE: DRIVER_NAME,
    CLUSTER_DOMAIN: 'cluster.local',
    TRUST_DOMAIN: '(CLUSTER_DOMAIN)',
    ISSUER_ALLOWED_DNS_NAMES: '(none)',
    CA_RELOAD_INTERVAL: '10s',
    CA_ROTATION_DELAY: '1m',
    CA_STATE_DIR: '(unset: rotation state in memory only)',
    METRICS_LISTEN_ADDR: '(off)',
  },
  demo: {
    LOG_LEVEL: 'info',
    DEMO_DIR: '(./.demo)',
    CLUSTER_DOMAIN: 'cluster.local',
    DEMO_RUN_SECONDS: '0',
    API_LISTEN_ADDR: '127.0.0.1:8080',
    API_CORS_ORIGINS: '(none: CORS closed)',
  },
  approver: APPROVER_DEFAULTS,
  'cluster-view': CLUSTER_VIEW_DEFAULTS,
};

function get(s: RawSettings, name: string, dflt: string): string {
  return s.get(name) ?? dflt;
}

function required(s: RawSettings, name: string, hint: string): string {
  const v = s.get(name);
  if (v === undefined) throw new ConfigError(name, `is required (${hint})`);
  return v;
}

function bool(name: string, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw new ConfigError(name, `must be true or false, got '${v}'`);
  return v === 'true';
}

function common(s: RawSettings): CommonConfig {
  return { logLevel: p.logLevel('LOG_LEVEL', get(s, 'LOG_LEVEL', 'info')) };
}

/** API_LISTEN_ADDR (`host:port`, `off` = no API) and API_CORS_ORIGINS (comma-separated origins). */
function api(s: RawSettings): { apiListenAddr?: string; apiCorsOrigins: string[] } {
  const addr = get(s, 'API_LISTEN_ADDR', '127.0.0.1:8080');
  const origins = (s.get('API_CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    let url: URL | undefined;
    try {
      url = new URL(o);
    } catch {
      url = undefined;
    }
    if (!url || url.origin !== o || !/^https?:$/.test(url.protocol)) {
      throw new ConfigError('API_CORS_ORIGINS', `'${o}' is not an origin like https://dashboard.example.com`);
    }
  }
  return {
    ...(addr === 'off' ? {} : { apiListenAddr: p.listenAddress('API_LISTEN_ADDR', addr).address }),
    apiCorsOrigins: origins,
  };
}

export function loadNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const s = readSettings(argv, env, NODE);
  const csiEndpoint = p.csiEndpoint('CSI_ENDPOINT', get(s, 'CSI_ENDPOINT', 'unix:///csi/csi.sock'));
  return {
    ...common(s),
    csiEndpoint,
    nodeId: p.nonEmpty('NODE_ID', get(s, 'NODE_ID', hostname()), 128),
    certServiceAddr: p.grpcTarget(
      'CERT_SERVICE_ADDR',
      get(s, 'CERT_SERVICE_ADDR', 'http://cert-service:50051'),
    ),
    certBasePath: p.absolutePath('CERT_BASE_PATH', get(s, 'CERT_BASE_PATH', '/var/lib/csi-certs')),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN', 'cluster.local')),
    volumeSizeBytes: p.byteSize('VOLUME_SIZE', get(s, 'VOLUME_SIZE', '1Mi')),
    issuerTimeoutMs: p.durationSeconds('ISSUER_TIMEOUT', get(s, 'ISSUER_TIMEOUT', '10s')) * 1000,
    ...api(s),
    ...lifecycle(s),
    ...nodeStatusSettings(s, env),
    ...nodeSpiffeSettings(s),
    ...certManagerSettings(s),
    ...nodeRegistrationSettings(s, csiEndpoint),
  };
}

/** `RSA-2048`, `ECDSA-256`, `Ed25519`: a key shape as KEY_POOL_SHAPES spells it. */
function keyShapes(name: string, v: string): KeyShape[] {
  return v
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      if (t === 'Ed25519') return { algorithm: 'Ed25519', size: 0 };
      const m = /^(RSA|ECDSA)-(\d+)$/.exec(t);
      const size = Number(m?.[2]);
      const ok = m?.[1] === 'RSA' ? size >= 2048 && size <= 8192 : [256, 384, 521].includes(size);
      if (!m || !ok)
        throw new ConfigError(name, `'${t}' is not a key shape like RSA-2048, ECDSA-256 or Ed25519`);
      return { algorithm: m[1] as 'RSA' | 'ECDSA', size };
    });
}

/** METRICS_LISTEN_ADDR: `host:port`, or `off` (the default). */
function metricsAddr(s: RawSettings): { metricsListenAddr?: string } {
  const v = get(s, 'METRICS_LISTEN_ADDR', 'off');
  return v === 'off' ? {} : { metricsListenAddr: p.listenAddress('METRICS_LISTEN_ADDR', v).address };
}

/** Key pool, trust bundle, metrics and memory-trim settings of the node. */
function lifecycle(
  s: RawSettings,
): Pick<
  NodeConfig,
  'keyPool' | 'trustBundleFile' | 'trustBundleRefreshMs' | 'metricsListenAddr' | 'memoryTrimIntervalMs'
> {
  const refresh = p.durationSeconds('TRUST_BUNDLE_REFRESH', get(s, 'TRUST_BUNDLE_REFRESH', '10s'));
  if (refresh < 1) throw new ConfigError('TRUST_BUNDLE_REFRESH', 'must be at least 1s');
  return {
    keyPool: {
      size: p.positiveInt('KEY_POOL_SIZE', get(s, 'KEY_POOL_SIZE', '4'), 0, 1000),
      shapes: keyShapes('KEY_POOL_SHAPES', get(s, 'KEY_POOL_SHAPES', 'ECDSA-256,RSA-2048')),
      workers: p.positiveInt('KEY_POOL_WORKERS', get(s, 'KEY_POOL_WORKERS', '1'), 1, 64),
    },
    trustBundleFile: s.has('TRUST_BUNDLE_FILE')
      ? p.absolutePath('TRUST_BUNDLE_FILE', get(s, 'TRUST_BUNDLE_FILE', ''))
      : undefined,
    trustBundleRefreshMs: refresh * 1000,
    memoryTrimIntervalMs:
      p.durationSeconds('MEMORY_TRIM_INTERVAL', get(s, 'MEMORY_TRIM_INTERVAL', '10s')) * 1000,
    ...metricsAddr(s),
  };
}

/** A Kubernetes object name (DNS-1123 subdomain). */
function objectName(name: string, v: string): string {
  if (v.length > 253 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v)) {
    throw new ConfigError(
      name,
      `must be a Kubernetes object name (lower-case a-z, 0-9, '-', '.'), got '${v}'`,
    );
  }
  return v;
}

/** The CA comes from CA_SECRET_NAME (watched) or from CA_CERT_FILE/CA_KEY_FILE, never both. */
function issuerCaSource(s: RawSettings): Pick<IssuerSettings, 'caCertFile' | 'caKeyFile' | 'caSecret'> {
  const secret = s.get('CA_SECRET_NAME');
  if (secret === undefined) {
    const hint = (what: string) => `path of the CA ${what} PEM, or set CA_SECRET_NAME`;
    return {
      caCertFile: p.absolutePath('CA_CERT_FILE', required(s, 'CA_CERT_FILE', hint('certificate'))),
      caKeyFile: p.absolutePath('CA_KEY_FILE', required(s, 'CA_KEY_FILE', hint('private key'))),
    };
  }
  if (s.has('CA_CERT_FILE') || s.has('CA_KEY_FILE')) {
    throw new ConfigError(
      'CA_SECRET_NAME',
      'set either CA_SECRET_NAME or CA_CERT_FILE/CA_KEY_FILE, not both',
    );
  }
  const namespace = objectName('CA_SECRET_NAMESPACE', get(s, 'CA_SECRET_NAMESPACE', 'kube-system'));
  return {
    caCertFile: '',
    caKeyFile: '',
    caSecret: { name: objectName('CA_SECRET_NAME', secret), namespace },
  };
}

function kubernetesAuth(s: RawSettings): KubernetesAuthConfig {
  const clusterDomain = p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN', 'cluster.local'));
  return {
    tokenAudience: p.nonEmpty('ISSUER_TOKEN_AUDIENCE', get(s, 'ISSUER_TOKEN_AUDIENCE', DRIVER_NAME)),
    clusterDomain,
    trustDomain: p.domain('TRUST_DOMAIN', get(s, 'TRUST_DOMAIN', clusterDomain)),
    allowedDnsNames: parseDnsPatterns('ISSUER_ALLOWED_DNS_NAMES', get(s, 'ISSUER_ALLOWED_DNS_NAMES', '')),
  };
}

export function loadIssuerConfig(argv: string[], env: NodeJS.ProcessEnv): IssuerConfig {
  const s = readSettings(argv, env, ISSUER);
  const inPod = !!env.KUBERNETES_SERVICE_HOST;
  const issuerAuth = p.oneOf(
    'ISSUER_AUTH',
    s.get('ISSUER_AUTH') ??
      (inPod
        ? 'kubernetes'
        : required(s, 'ISSUER_AUTH', "how callers are authenticated: kubernetes, or 'none'")),
    ['none', 'kubernetes'] as const,
  );
  const base: IssuerSettings = {
    ...common(s),
    listenAddr: p.grpcListenAddress('LISTEN_ADDR', get(s, 'LISTEN_ADDR', '0.0.0.0:50051')),
    ...issuerCaSource(s),
    kubeconfig: s.has('KUBECONFIG') ? p.nonEmpty('KUBECONFIG', get(s, 'KUBECONFIG', ''), 4096) : undefined,
    maxDurationSeconds: p.durationSeconds('MAX_DURATION', get(s, 'MAX_DURATION', '720h')),
    minDurationSeconds: p.durationSeconds('MIN_DURATION', get(s, 'MIN_DURATION', '1m')),
    allowCA: bool('ALLOW_CA', get(s, 'ALLOW_CA', 'false')),
    caReloadIntervalMs: p.durationSeconds('CA_RELOAD_INTERVAL', get(s, 'CA_RELOAD_INTERVAL', '10s')) * 1000,
    caRotationDelayMs: p.durationSeconds('CA_ROTATION_DELAY', get(s, 'CA_ROTATION_DELAY', '1m')) * 1000,
    caStateDir: s.has('CA_STATE_DIR')
      ? p.absolutePath('CA_STATE_DIR', get(s, 'CA_STATE_DIR', ''))
      : undefined,
    ...metricsAddr(s),
  };
  if (base.minDurationSeconds > base.maxDurationSeconds) {
    throw new ConfigError('MIN_DURATION', 'must not be longer than MAX_DURATION');
  }
  return issuerAuth === 'none'
    ? { ...base, issuerAuth }
    : { ...base, issuerAuth, kubernetesAuth: kubernetesAuth(s) };
}

export function loadDemoConfig(argv: string[], env: NodeJS.ProcessEnv, cwd: string): DemoConfig {
  const s = readSettings(argv, env, DEMO);
  return {
    ...common(s),
    demoDir: p.absolutePath('DEMO_DIR', get(s, 'DEMO_DIR', `${cwd}/.demo`)),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN', 'cluster.local')),
    demoRunSeconds: p.positiveInt('DEMO_RUN_SECONDS', get(s, 'DEMO_RUN_SECONDS', '0'), 0),
    ...api(s),
  };
}
