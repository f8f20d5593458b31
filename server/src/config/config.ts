import { hostname } from 'node:os';
import { ConfigError, DEFAULT_CLUSTER_DOMAIN, helpOf, read, readTable } from './settings.js';
import type { RawSettings, SettingsTable } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';
import { parseDnsPatterns } from '../issuer/auth/dns-patterns.js';
import type { KeyShape } from '../pki/keys.js';
import { APPROVER_DEFAULTS } from './approver-settings.js';
import { SPIFFE_TABLE, nodeSpiffeSettings } from './spiffe-settings.js';
import { CLUSTER_VIEW_DEFAULTS } from './cluster-view-settings.js';
import type { SpiffeMode } from '../attributes/spiffe-mode.js';
import { STATUS_TABLE, nodeStatusSettings, type NodeStatusSettings } from './status-settings.js';
import { CERT_MANAGER_TABLE, certManagerSettings, type CertManagerConfig } from './cert-manager-settings.js';
import {
  REGISTRATION_TABLE,
  nodeRegistrationSettings,
  type RegistrationSettings,
} from './registration-settings.js';
import {
  ISSUER_LISTEN_TLS_TABLE,
  NODE_ISSUER_TLS_TABLE,
  issuerServingTls,
  nodeIssuerTls,
  type IssuerClientTls,
  type IssuerServingTls,
} from './issuer-tls-settings.js';

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
  /**
   * KUBELET_ROOT_DIR: kubelet's --root-dir on this node. Every publish's target path must lie below
   * it in kubelet's shape (`pods/<pod uid>/volumes/kubernetes.io~csi/<name>/mount`); undefined means
   * the default, /var/lib/kubelet.
   */
  kubeletRootDir?: string | undefined;
  clusterDomain: string;
  /** tmpfs size per volume. */
  volumeSizeBytes: number;
  /** Per-RPC deadline for calls to the issuer. */
  issuerTimeoutMs: number;
  /**
   * ISSUER_TOKEN_AUDIENCE: the one audience of kubelet's token map whose token the built-in issuer
   * gets; undefined = DRIVER_NAME.
   */
  issuerTokenAudience?: string | undefined;
  /** ISSUER_TLS_*: TLS to the issuer; undefined = plaintext (explicit, or loopback outside a pod). */
  issuerTls?: IssuerClientTls | undefined;
  /** `host:port` of the read-only REST API and dashboard; undefined = not served. */
  apiListenAddr?: string | undefined;
  /** Origins allowed to read the API cross-origin; empty = CORS closed. */
  apiCorsOrigins?: string[] | undefined;
  /** API_ALLOWED_HOSTS: Host header names the API and /metrics answer besides IP literals and localhost. */
  apiAllowedHosts?: string[] | undefined;
  /**
   * KEY_POOL_SIZE/SHAPES/WORKERS/LARGE_RSA_WORKERS: warm keys per shape (size 0 = every key generated
   * on demand, still on the worker threads); undefined = keys generated in process (tests).
   */
  keyPool?: { size: number; shapes: KeyShape[]; workers: number; largeRsaWorkers?: number } | undefined;
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
  /** LISTEN_TLS_*: the serving certificate (and client CA for mTLS); undefined = plaintext. */
  servingTls?: IssuerServingTls | undefined;
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
  /** ALLOW_SYSTEM_SUBJECTS: sign subjects with a `system:` organization or common name. */
  allowSystemSubjects?: boolean | undefined;
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

/** A duration setting (`90s`, `5m`) in milliseconds. */
const millis = (name: string, v: string): number => p.durationSeconds(name, v) * 1000;
/** `host:port`, or `off` (undefined). */
const addressOrOff = (name: string, v: string): string | undefined =>
  v === 'off' ? undefined : p.listenAddress(name, v).address;

const COMMON_TABLE = {
  LOG_LEVEL: { default: 'info', parse: p.logLevel },
} as const satisfies SettingsTable;

const API_TABLE = {
  API_LISTEN_ADDR: { default: '127.0.0.1:8080', parse: addressOrOff },
  API_CORS_ORIGINS: { default: '', help: '(none: CORS closed)', parse: corsOrigins },
} as const satisfies SettingsTable;

const METRICS_TABLE = {
  METRICS_LISTEN_ADDR: { default: 'off', parse: addressOrOff },
} as const satisfies SettingsTable;

/** kubelet's default --root-dir. */
export const DEFAULT_KUBELET_ROOT_DIR = '/var/lib/kubelet';

/** Every setting of the node role: its default, its parser and how `--help` shows it. */
const NODE_TABLE = {
  ...COMMON_TABLE,
  CSI_ENDPOINT: { default: 'unix:///csi/csi.sock', parse: p.csiEndpoint },
  NODE_ID: { help: '(hostname)' },
  CERT_SERVICE_ADDR: { default: 'http://cert-service:50051', parse: p.grpcTarget },
  CERT_BASE_PATH: { default: '/var/lib/csi-certs', parse: p.absolutePath },
  KUBELET_ROOT_DIR: { default: DEFAULT_KUBELET_ROOT_DIR, parse: p.absolutePath },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN, parse: p.domain },
  VOLUME_SIZE: { default: '1Mi', parse: p.byteSize },
  ISSUER_TIMEOUT: { default: '10s', parse: millis },
  ISSUER_TOKEN_AUDIENCE: { default: DRIVER_NAME, parse: p.nonEmpty },
  ...API_TABLE,
  API_ALLOWED_HOSTS: { default: '', help: '(none: IP addresses and localhost only)', parse: allowedHosts },
  KEY_POOL_SIZE: { default: '4', parse: (n: string, v: string) => p.positiveInt(n, v, 0, 1000) },
  KEY_POOL_SHAPES: { default: 'ECDSA-256,RSA-2048', parse: keyShapes },
  KEY_POOL_WORKERS: { default: '1', parse: (n: string, v: string) => p.positiveInt(n, v, 1, 64) },
  KEY_POOL_LARGE_RSA_WORKERS: { default: '1', parse: (n: string, v: string) => p.positiveInt(n, v, 1, 16) },
  TRUST_BUNDLE_FILE: { help: "(unset: the issuer's CA bundle)", parse: p.absolutePath },
  TRUST_BUNDLE_REFRESH: { default: '10s', parse: millis },
  METRICS_LISTEN_ADDR: { ...METRICS_TABLE.METRICS_LISTEN_ADDR, help: '(off; /metrics is also on the API)' },
  MEMORY_TRIM_INTERVAL: { default: '10s', parse: millis },
  ...NODE_ISSUER_TLS_TABLE,
  ...STATUS_TABLE,
  ...SPIFFE_TABLE,
  ...CERT_MANAGER_TABLE,
  ...REGISTRATION_TABLE,
} as const satisfies SettingsTable;

/** Every setting of the issuer role. */
const ISSUER_TABLE = {
  ...COMMON_TABLE,
  LISTEN_ADDR: { default: '0.0.0.0:50051', parse: p.grpcListenAddress },
  CA_CERT_FILE: { help: '', parse: p.absolutePath },
  CA_KEY_FILE: { help: '', parse: p.absolutePath },
  ISSUER_AUTH: { help: '(kubernetes in a pod, else required)' },
  MAX_DURATION: { default: '720h', parse: p.durationSeconds },
  MIN_DURATION: { default: '1m', parse: p.durationSeconds },
  ALLOW_CA: { default: 'false', parse: p.bool },
  ALLOW_SYSTEM_SUBJECTS: { default: 'false', parse: p.bool },
  CA_SECRET_NAME: { help: '(unset: CA_CERT_FILE/CA_KEY_FILE)', parse: objectName },
  CA_SECRET_NAMESPACE: { default: 'kube-system', parse: objectName },
  KUBECONFIG: { help: '(in-cluster config)', parse: (n: string, v: string) => p.nonEmpty(n, v, 4096) },
  ISSUER_TOKEN_AUDIENCE: { default: DRIVER_NAME, parse: p.nonEmpty },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN, parse: p.domain },
  TRUST_DOMAIN: { help: '(CLUSTER_DOMAIN)', parse: p.domain },
  ISSUER_ALLOWED_DNS_NAMES: { default: '', help: '(none)', parse: parseDnsPatterns },
  CA_RELOAD_INTERVAL: { default: '10s', parse: millis },
  CA_ROTATION_DELAY: { default: '1m', parse: millis },
  CA_STATE_DIR: { help: '(unset: rotation state in memory only)', parse: p.absolutePath },
  METRICS_LISTEN_ADDR: { ...METRICS_TABLE.METRICS_LISTEN_ADDR, help: '(off)' },
  ...ISSUER_LISTEN_TLS_TABLE,
} as const satisfies SettingsTable;

/** Every setting of the demo role. */
const DEMO_TABLE = {
  ...COMMON_TABLE,
  DEMO_DIR: { help: '(./.demo)', parse: p.absolutePath },
  CLUSTER_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN, parse: p.domain },
  DEMO_RUN_SECONDS: { default: '0', parse: (n: string, v: string) => p.positiveInt(n, v, 0) },
  ...API_TABLE,
} as const satisfies SettingsTable;

/** Every setting each role accepts, with its default ("" = required). Used for `--help` and docs. */
export const SETTINGS: Record<Role, Record<string, string>> = {
  node: helpOf(NODE_TABLE),
  issuer: helpOf(ISSUER_TABLE),
  demo: helpOf(DEMO_TABLE),
  approver: APPROVER_DEFAULTS,
  'cluster-view': CLUSTER_VIEW_DEFAULTS,
};

function required(s: RawSettings, name: string, hint: string): string {
  const v = s.get(name);
  if (v === undefined) throw new ConfigError(name, `is required (${hint})`);
  return v;
}

function common(s: RawSettings): CommonConfig {
  return { logLevel: read(s, COMMON_TABLE, 'LOG_LEVEL') };
}

/** API_CORS_ORIGINS: comma-separated `http(s)://host[:port]` origins. */
function corsOrigins(name: string, v: string): string[] {
  const origins = v
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
      throw new ConfigError(name, `'${o}' is not an origin like https://dashboard.example.com`);
    }
  }
  return origins;
}

/** API_LISTEN_ADDR (`host:port`, `off` = no API) and API_CORS_ORIGINS. */
function api(s: RawSettings): { apiListenAddr?: string; apiCorsOrigins: string[] } {
  const addr = read(s, API_TABLE, 'API_LISTEN_ADDR');
  return {
    ...(addr === undefined ? {} : { apiListenAddr: addr }),
    apiCorsOrigins: read(s, API_TABLE, 'API_CORS_ORIGINS'),
  };
}

/** METRICS_LISTEN_ADDR: `host:port`, or `off` (the default). */
function metricsAddr(s: RawSettings): { metricsListenAddr?: string } {
  const addr = read(s, METRICS_TABLE, 'METRICS_LISTEN_ADDR');
  return addr === undefined ? {} : { metricsListenAddr: addr };
}

/** API_ALLOWED_HOSTS: comma-separated DNS names (the Host header's name, without port). */
function allowedHosts(name: string, v: string): string[] {
  const names = v
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  for (const n of names) p.domain(name, n);
  return names;
}

/** The optional setting `name` through its parser; undefined when not given. */
function optional<T extends SettingsTable, K extends keyof T & string>(
  s: RawSettings,
  table: T,
  name: K,
): ReturnType<typeof read<T, K>> | undefined {
  return s.has(name) ? read(s, table, name) : undefined;
}

export function loadNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const s = readTable(argv, env, NODE_TABLE);
  const csiEndpoint = read(s, NODE_TABLE, 'CSI_ENDPOINT');
  const certServiceAddr = read(s, NODE_TABLE, 'CERT_SERVICE_ADDR');
  const cfg: NodeConfig = {
    ...common(s),
    csiEndpoint,
    nodeId: p.nonEmpty('NODE_ID', s.get('NODE_ID') ?? hostname(), 128),
    certServiceAddr,
    ...nodeIssuerTls(s, env, certServiceAddr),
    certBasePath: read(s, NODE_TABLE, 'CERT_BASE_PATH'),
    kubeletRootDir: read(s, NODE_TABLE, 'KUBELET_ROOT_DIR'),
    clusterDomain: read(s, NODE_TABLE, 'CLUSTER_DOMAIN'),
    volumeSizeBytes: read(s, NODE_TABLE, 'VOLUME_SIZE'),
    issuerTimeoutMs: read(s, NODE_TABLE, 'ISSUER_TIMEOUT'),
    issuerTokenAudience: read(s, NODE_TABLE, 'ISSUER_TOKEN_AUDIENCE'),
    ...api(s),
    apiAllowedHosts: read(s, NODE_TABLE, 'API_ALLOWED_HOSTS'),
    ...lifecycle(s),
    ...nodeStatusSettings(s, env),
    ...nodeSpiffeSettings(s),
    ...certManagerSettings(s),
    ...nodeRegistrationSettings(s, csiEndpoint),
  };
  if (cfg.certManager && cfg.certManager.tokenAudience === cfg.issuerTokenAudience) {
    throw new ConfigError(
      'CERT_MANAGER_TOKEN_AUDIENCE',
      'must differ from ISSUER_TOKEN_AUDIENCE: kubelet keys the tokens by audience, and the API token never goes to the issuer',
    );
  }
  return cfg;
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

/** Key pool, trust bundle, metrics and memory-trim settings of the node. */
function lifecycle(
  s: RawSettings,
): Pick<
  NodeConfig,
  'keyPool' | 'trustBundleFile' | 'trustBundleRefreshMs' | 'metricsListenAddr' | 'memoryTrimIntervalMs'
> {
  const refreshMs = read(s, NODE_TABLE, 'TRUST_BUNDLE_REFRESH');
  if (refreshMs < 1000) throw new ConfigError('TRUST_BUNDLE_REFRESH', 'must be at least 1s');
  return {
    keyPool: {
      size: read(s, NODE_TABLE, 'KEY_POOL_SIZE'),
      shapes: read(s, NODE_TABLE, 'KEY_POOL_SHAPES'),
      workers: read(s, NODE_TABLE, 'KEY_POOL_WORKERS'),
      largeRsaWorkers: read(s, NODE_TABLE, 'KEY_POOL_LARGE_RSA_WORKERS'),
    },
    trustBundleFile: optional(s, NODE_TABLE, 'TRUST_BUNDLE_FILE'),
    trustBundleRefreshMs: refreshMs,
    memoryTrimIntervalMs: read(s, NODE_TABLE, 'MEMORY_TRIM_INTERVAL'),
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
  if (!s.has('CA_SECRET_NAME')) {
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
  const namespace = read(s, ISSUER_TABLE, 'CA_SECRET_NAMESPACE');
  return {
    caCertFile: '',
    caKeyFile: '',
    caSecret: { name: read(s, ISSUER_TABLE, 'CA_SECRET_NAME'), namespace },
  };
}

function kubernetesAuth(s: RawSettings): KubernetesAuthConfig {
  const clusterDomain = read(s, ISSUER_TABLE, 'CLUSTER_DOMAIN');
  return {
    tokenAudience: read(s, ISSUER_TABLE, 'ISSUER_TOKEN_AUDIENCE'),
    clusterDomain,
    trustDomain: optional(s, ISSUER_TABLE, 'TRUST_DOMAIN') ?? clusterDomain,
    allowedDnsNames: read(s, ISSUER_TABLE, 'ISSUER_ALLOWED_DNS_NAMES'),
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
  const listenAddr = read(s, ISSUER_TABLE, 'LISTEN_ADDR');
  const base: IssuerSettings = {
    ...common(s),
    listenAddr,
    ...issuerServingTls(s, env, listenAddr),
    ...issuerCaSource(s),
    kubeconfig: optional(s, ISSUER_TABLE, 'KUBECONFIG'),
    maxDurationSeconds: read(s, ISSUER_TABLE, 'MAX_DURATION'),
    minDurationSeconds: read(s, ISSUER_TABLE, 'MIN_DURATION'),
    allowCA: read(s, ISSUER_TABLE, 'ALLOW_CA'),
    allowSystemSubjects: read(s, ISSUER_TABLE, 'ALLOW_SYSTEM_SUBJECTS'),
    caReloadIntervalMs: read(s, ISSUER_TABLE, 'CA_RELOAD_INTERVAL'),
    caRotationDelayMs: read(s, ISSUER_TABLE, 'CA_ROTATION_DELAY'),
    caStateDir: optional(s, ISSUER_TABLE, 'CA_STATE_DIR'),
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
    clusterDomain: read(s, DEMO_TABLE, 'CLUSTER_DOMAIN'),
    demoRunSeconds: read(s, DEMO_TABLE, 'DEMO_RUN_SECONDS'),
    ...api(s),
  };
}
