import { hostname } from 'node:os';
import { ConfigError, DEFAULT_CLUSTER_DOMAIN, helpOf, readTable, valueOf } from './settings.js';
import type { RawSettings, SettingsTable } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';
import { parseDnsPatterns } from '../issuer/auth/dns-patterns.js';
import type { KeyShape } from '../pki/keys.js';
import { APPROVER_DEFAULTS } from './approver-settings.js';
import { SPIFFE_TABLE, nodeSpiffeSettings } from './spiffe-settings.js';
import type { SpiffeMode } from '../attributes/spiffe-mode.js';
import { STATUS_TABLE, nodeStatusSettings, type NodeStatusSettings } from './status-settings.js';
import { CERT_MANAGER_TABLE, certManagerSettings, type CertManagerConfig } from './cert-manager-settings.js';
import {
  REGISTRATION_TABLE,
  nodeRegistrationSettings,
  type RegistrationSettings,
} from './registration-settings.js';

export type { CertManagerConfig } from './cert-manager-settings.js';

export const ROLES = ['node', 'issuer', 'demo', 'approver'] as const;
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

const COMMON_TABLE = {
  LOG_LEVEL: { default: 'info' },
} as const satisfies SettingsTable;

const API_TABLE = {
  API_LISTEN_ADDR: { default: '127.0.0.1:8080' },
  API_CORS_ORIGINS: { default: '', help: '(none: CORS closed)' },
} as const satisfies SettingsTable;

const METRICS_OFF = { default: 'off' } as const;

/** Every setting of the node role: its default and how `--help` shows it. */
const NODE_TABLE = {
  ...COMMON_TABLE,
  CSI_ENDPOINT: { default: 'unix:///csi/csi.sock' },
  NODE_ID: { help: '(hostname)' },
  CERT_SERVICE_ADDR: { default: 'http://cert-service:50051' },
  CERT_BASE_PATH: { default: '/var/lib/csi-certs' },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN },
  VOLUME_SIZE: { default: '1Mi' },
  ISSUER_TIMEOUT: { default: '10s' },
  ...API_TABLE,
  KEY_POOL_SIZE: { default: '4' },
  KEY_POOL_SHAPES: { default: 'ECDSA-256,RSA-2048' },
  KEY_POOL_WORKERS: { default: '1' },
  TRUST_BUNDLE_FILE: { help: "(unset: the issuer's CA bundle)" },
  TRUST_BUNDLE_REFRESH: { default: '10s' },
  METRICS_LISTEN_ADDR: { ...METRICS_OFF, help: '(off; /metrics is also on the API)' },
  MEMORY_TRIM_INTERVAL: { default: '10s' },
  ...STATUS_TABLE,
  ...SPIFFE_TABLE,
  ...CERT_MANAGER_TABLE,
  ...REGISTRATION_TABLE,
} as const satisfies SettingsTable;

/** Every setting of the issuer role. */
const ISSUER_TABLE = {
  ...COMMON_TABLE,
  LISTEN_ADDR: { default: '0.0.0.0:50051' },
  CA_CERT_FILE: { help: '' },
  CA_KEY_FILE: { help: '' },
  ISSUER_AUTH: { help: '(kubernetes in a pod, else required)' },
  MAX_DURATION: { default: '720h' },
  MIN_DURATION: { default: '1m' },
  ALLOW_CA: { default: 'false' },
  CA_SECRET_NAME: { help: '(unset: CA_CERT_FILE/CA_KEY_FILE)' },
  CA_SECRET_NAMESPACE: { default: 'kube-system' },
  KUBECONFIG: { help: '(in-cluster config)' },
  ISSUER_TOKEN_AUDIENCE: { default: DRIVER_NAME },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN },
  TRUST_DOMAIN: { help: '(CLUSTER_DOMAIN)' },
  ISSUER_ALLOWED_DNS_NAMES: { default: '', help: '(none)' },
  CA_RELOAD_INTERVAL: { default: '10s' },
  CA_ROTATION_DELAY: { default: '1m' },
  CA_STATE_DIR: { help: '(unset: rotation state in memory only)' },
  METRICS_LISTEN_ADDR: { ...METRICS_OFF, help: '(off)' },
} as const satisfies SettingsTable;

/** Every setting of the demo role. */
const DEMO_TABLE = {
  ...COMMON_TABLE,
  DEMO_DIR: { help: '(./.demo)' },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN },
  DEMO_RUN_SECONDS: { default: '0' },
  ...API_TABLE,
} as const satisfies SettingsTable;

/** Every setting each role accepts, with its default ("" = required). Used for `--help` and docs. */
export const SETTINGS: Record<Role, Record<string, string>> = {
  node: helpOf(NODE_TABLE),
  issuer: helpOf(ISSUER_TABLE),
  demo: helpOf(DEMO_TABLE),
  approver: APPROVER_DEFAULTS,
};

type NodeSetting = keyof typeof NODE_TABLE;
type IssuerSetting = keyof typeof ISSUER_TABLE;
type DemoSetting = keyof typeof DEMO_TABLE;

/**
 * A setting's value as given, else its default from the role's table. A name several roles share
 * (CLUSTER_DOMAIN, LOG_LEVEL, API_LISTEN_ADDR, METRICS_LISTEN_ADDR) has the same default in each.
 */
function get(s: RawSettings, name: NodeSetting | IssuerSetting | DemoSetting): string {
  return valueOf(s, { ...NODE_TABLE, ...ISSUER_TABLE, ...DEMO_TABLE }, name);
}

function required(s: RawSettings, name: string, hint: string): string {
  const v = s.get(name);
  if (v === undefined) throw new ConfigError(name, `is required (${hint})`);
  return v;
}

function common(s: RawSettings): CommonConfig {
  return { logLevel: p.logLevel('LOG_LEVEL', get(s, 'LOG_LEVEL')) };
}

/** API_LISTEN_ADDR (`host:port`, `off` = no API) and API_CORS_ORIGINS (comma-separated origins). */
function api(s: RawSettings): { apiListenAddr?: string; apiCorsOrigins: string[] } {
  const addr = get(s, 'API_LISTEN_ADDR');
  const origins = get(s, 'API_CORS_ORIGINS')
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
  const s = readTable(argv, env, NODE_TABLE);
  const csiEndpoint = p.csiEndpoint('CSI_ENDPOINT', get(s, 'CSI_ENDPOINT'));
  return {
    ...common(s),
    csiEndpoint,
    nodeId: p.nonEmpty('NODE_ID', s.get('NODE_ID') ?? hostname(), 128),
    certServiceAddr: p.grpcTarget('CERT_SERVICE_ADDR', get(s, 'CERT_SERVICE_ADDR')),
    certBasePath: p.absolutePath('CERT_BASE_PATH', get(s, 'CERT_BASE_PATH')),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN')),
    volumeSizeBytes: p.byteSize('VOLUME_SIZE', get(s, 'VOLUME_SIZE')),
    issuerTimeoutMs: p.durationSeconds('ISSUER_TIMEOUT', get(s, 'ISSUER_TIMEOUT')) * 1000,
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
  const v = get(s, 'METRICS_LISTEN_ADDR');
  return v === 'off' ? {} : { metricsListenAddr: p.listenAddress('METRICS_LISTEN_ADDR', v).address };
}

/** Key pool, trust bundle, metrics and memory-trim settings of the node. */
function lifecycle(
  s: RawSettings,
): Pick<
  NodeConfig,
  'keyPool' | 'trustBundleFile' | 'trustBundleRefreshMs' | 'metricsListenAddr' | 'memoryTrimIntervalMs'
> {
  const refresh = p.durationSeconds('TRUST_BUNDLE_REFRESH', get(s, 'TRUST_BUNDLE_REFRESH'));
  if (refresh < 1) throw new ConfigError('TRUST_BUNDLE_REFRESH', 'must be at least 1s');
  return {
    keyPool: {
      size: p.positiveInt('KEY_POOL_SIZE', get(s, 'KEY_POOL_SIZE'), 0, 1000),
      shapes: keyShapes('KEY_POOL_SHAPES', get(s, 'KEY_POOL_SHAPES')),
      workers: p.positiveInt('KEY_POOL_WORKERS', get(s, 'KEY_POOL_WORKERS'), 1, 64),
    },
    trustBundleFile: s.has('TRUST_BUNDLE_FILE')
      ? p.absolutePath('TRUST_BUNDLE_FILE', get(s, 'TRUST_BUNDLE_FILE'))
      : undefined,
    trustBundleRefreshMs: refresh * 1000,
    memoryTrimIntervalMs: p.durationSeconds('MEMORY_TRIM_INTERVAL', get(s, 'MEMORY_TRIM_INTERVAL')) * 1000,
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
  const namespace = objectName('CA_SECRET_NAMESPACE', get(s, 'CA_SECRET_NAMESPACE'));
  return {
    caCertFile: '',
    caKeyFile: '',
    caSecret: { name: objectName('CA_SECRET_NAME', secret), namespace },
  };
}

function kubernetesAuth(s: RawSettings): KubernetesAuthConfig {
  const clusterDomain = p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN'));
  return {
    tokenAudience: p.nonEmpty('ISSUER_TOKEN_AUDIENCE', get(s, 'ISSUER_TOKEN_AUDIENCE')),
    clusterDomain,
    trustDomain: p.domain('TRUST_DOMAIN', s.get('TRUST_DOMAIN') ?? clusterDomain),
    allowedDnsNames: parseDnsPatterns('ISSUER_ALLOWED_DNS_NAMES', get(s, 'ISSUER_ALLOWED_DNS_NAMES')),
  };
}

export function loadIssuerConfig(argv: string[], env: NodeJS.ProcessEnv): IssuerConfig {
  const s = readTable(argv, env, ISSUER_TABLE);
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
    listenAddr: p.grpcListenAddress('LISTEN_ADDR', get(s, 'LISTEN_ADDR')),
    ...issuerCaSource(s),
    kubeconfig: s.has('KUBECONFIG') ? p.nonEmpty('KUBECONFIG', get(s, 'KUBECONFIG'), 4096) : undefined,
    maxDurationSeconds: p.durationSeconds('MAX_DURATION', get(s, 'MAX_DURATION')),
    minDurationSeconds: p.durationSeconds('MIN_DURATION', get(s, 'MIN_DURATION')),
    allowCA: p.bool('ALLOW_CA', get(s, 'ALLOW_CA')),
    caReloadIntervalMs: p.durationSeconds('CA_RELOAD_INTERVAL', get(s, 'CA_RELOAD_INTERVAL')) * 1000,
    caRotationDelayMs: p.durationSeconds('CA_ROTATION_DELAY', get(s, 'CA_ROTATION_DELAY')) * 1000,
    caStateDir: s.has('CA_STATE_DIR') ? p.absolutePath('CA_STATE_DIR', get(s, 'CA_STATE_DIR')) : undefined,
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
  const s = readTable(argv, env, DEMO_TABLE);
  return {
    ...common(s),
    demoDir: p.absolutePath('DEMO_DIR', s.get('DEMO_DIR') ?? `${cwd}/.demo`),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN')),
    demoRunSeconds: p.positiveInt('DEMO_RUN_SECONDS', get(s, 'DEMO_RUN_SECONDS'), 0),
    ...api(s),
  };
}
