import { hostname } from 'node:os';
import { ConfigError, readSettings, type RawSettings } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';

export const ROLES = ['node', 'issuer', 'demo'] as const;
export type Role = (typeof ROLES)[number];

export const DRIVER_NAME = 'csi.k8s.cert-driver';

export interface CommonConfig {
  logLevel: LogLevel;
}

export interface NodeConfig extends CommonConfig {
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
}

export type IssuerAuth = 'none';

export interface IssuerConfig extends CommonConfig {
  listenAddr: string;
  caCertFile: string;
  caKeyFile: string;
  issuerAuth: IssuerAuth;
  maxDurationSeconds: number;
  minDurationSeconds: number;
  allowCA: boolean;
}

export interface DemoConfig extends CommonConfig {
  demoDir: string;
  clusterDomain: string;
  /** 0 = run until interrupted. */
  demoRunSeconds: number;
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
] as const;
const DEMO = [...COMMON, 'DEMO_DIR', 'CLUSTER_DOMAIN', 'DEMO_RUN_SECONDS'] as const;

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
  },
  issuer: {
    LOG_LEVEL: 'info',
    LISTEN_ADDR: '0.0.0.0:50051',
    CA_CERT_FILE: '',
    CA_KEY_FILE: '',
    ISSUER_AUTH: '',
    MAX_DURATION: '720h',
    MIN_DURATION: '1m',
    ALLOW_CA: 'false',
  },
  demo: { LOG_LEVEL: 'info', DEMO_DIR: '(./.demo)', CLUSTER_DOMAIN: 'cluster.local', DEMO_RUN_SECONDS: '0' },
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

export function loadNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const s = readSettings(argv, env, NODE);
  return {
    ...common(s),
    csiEndpoint: p.csiEndpoint('CSI_ENDPOINT', get(s, 'CSI_ENDPOINT', 'unix:///csi/csi.sock')),
    nodeId: p.nonEmpty('NODE_ID', get(s, 'NODE_ID', hostname()), 128),
    certServiceAddr: p.grpcTarget(
      'CERT_SERVICE_ADDR',
      get(s, 'CERT_SERVICE_ADDR', 'http://cert-service:50051'),
    ),
    certBasePath: p.absolutePath('CERT_BASE_PATH', get(s, 'CERT_BASE_PATH', '/var/lib/csi-certs')),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN', 'cluster.local')),
    volumeSizeBytes: p.byteSize('VOLUME_SIZE', get(s, 'VOLUME_SIZE', '1Mi')),
    issuerTimeoutMs: p.durationSeconds('ISSUER_TIMEOUT', get(s, 'ISSUER_TIMEOUT', '10s')) * 1000,
  };
}

export function loadIssuerConfig(argv: string[], env: NodeJS.ProcessEnv): IssuerConfig {
  const s = readSettings(argv, env, ISSUER);
  const cfg: IssuerConfig = {
    ...common(s),
    listenAddr: p.listenAddress('LISTEN_ADDR', get(s, 'LISTEN_ADDR', '0.0.0.0:50051')).address,
    caCertFile: p.absolutePath('CA_CERT_FILE', required(s, 'CA_CERT_FILE', 'path of the CA certificate PEM')),
    caKeyFile: p.absolutePath('CA_KEY_FILE', required(s, 'CA_KEY_FILE', 'path of the CA private key PEM')),
    issuerAuth: p.oneOf(
      'ISSUER_AUTH',
      required(s, 'ISSUER_AUTH', "how callers are authenticated; 'none' turns authentication off explicitly"),
      ['none'] as const,
    ),
    maxDurationSeconds: p.durationSeconds('MAX_DURATION', get(s, 'MAX_DURATION', '720h')),
    minDurationSeconds: p.durationSeconds('MIN_DURATION', get(s, 'MIN_DURATION', '1m')),
    allowCA: bool('ALLOW_CA', get(s, 'ALLOW_CA', 'false')),
  };
  if (cfg.minDurationSeconds > cfg.maxDurationSeconds) {
    throw new ConfigError('MIN_DURATION', 'must not be longer than MAX_DURATION');
  }
  return cfg;
}

export function loadDemoConfig(argv: string[], env: NodeJS.ProcessEnv, cwd: string): DemoConfig {
  const s = readSettings(argv, env, DEMO);
  return {
    ...common(s),
    demoDir: p.absolutePath('DEMO_DIR', get(s, 'DEMO_DIR', `${cwd}/.demo`)),
    clusterDomain: p.domain('CLUSTER_DOMAIN', get(s, 'CLUSTER_DOMAIN', 'cluster.local')),
    demoRunSeconds: p.positiveInt('DEMO_RUN_SECONDS', get(s, 'DEMO_RUN_SECONDS', '0'), 0),
  };
}
