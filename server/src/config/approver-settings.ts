/**
 * Settings of the `approver` role (docs/configuration.md). Names follow what the Helm chart's
 * approver Deployment passes: ISSUER_NAME/KIND/GROUP, TRUST_DOMAIN, CERTIFICATE_DURATION,
 * LEADER_ELECTION_*, POD_NAME. Every error names the setting.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConfigError, DEFAULT_CLUSTER_DOMAIN, helpOf, readTable, valueOf } from './settings.js';
import type { RawSettings, SettingsTable } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';
import { parseGoDuration } from '../attributes/duration.js';
import { DEFAULT_ALLOWED_KEYS, parseKeyPolicy, type KeyPolicy } from '../approver/key-policy.js';

export interface ApproverConfig {
  logLevel: LogLevel;
  kubeconfig?: string | undefined;
  issuerRef: { name: string; kind: string; group: string };
  trustDomain: string;
  /** CERTIFICATE_DURATION: the spec.duration every request must carry. */
  durationSeconds: number;
  keys: KeyPolicy;
  leaderElection: {
    namespace: string;
    leaseName: string;
    /** Holder identity: POD_NAME (or the hostname) and a random suffix, as client-go. */
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  /** HEALTH_LISTEN_ADDR: /healthz, /readyz and /metrics; undefined = off. */
  healthListenAddr?: string | undefined;
}

/** Every setting of the approver role: its default and how `--help` shows it. */
export const APPROVER_TABLE = {
  LOG_LEVEL: { default: 'info' },
  KUBECONFIG: { help: '(in-cluster config)' },
  ISSUER_NAME: { help: '' },
  ISSUER_KIND: { default: 'ClusterIssuer' },
  ISSUER_GROUP: { default: 'cert-manager.io' },
  TRUST_DOMAIN: { default: DEFAULT_CLUSTER_DOMAIN },
  CERTIFICATE_DURATION: { default: '1h' },
  ALLOWED_KEYS: { default: DEFAULT_ALLOWED_KEYS },
  LEADER_ELECTION_NAMESPACE: { default: 'csi-cert-driver' },
  LEADER_ELECTION_LEASE_NAME: { default: 'csi-cert-driver-approver' },
  LEADER_ELECTION_LEASE_DURATION: { default: '15s' },
  LEADER_ELECTION_RENEW_DEADLINE: { default: '10s' },
  LEADER_ELECTION_RETRY_PERIOD: { default: '2s' },
  POD_NAME: { help: '(hostname)' },
  HEALTH_LISTEN_ADDR: { default: '0.0.0.0:9402' },
} as const satisfies SettingsTable;

/** The names the approver accepts. */
export const APPROVER_SETTINGS = Object.keys(APPROVER_TABLE) as readonly (keyof typeof APPROVER_TABLE)[];

/** `--help`'s default column. */
export const APPROVER_DEFAULTS: Record<string, string> = helpOf(APPROVER_TABLE);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function get(s: RawSettings, name: keyof typeof APPROVER_TABLE): string {
  return valueOf(s, APPROVER_TABLE, name);
}

function matching(name: string, v: string, re: RegExp, what: string): string {
  if (v.length > 253 || !re.test(v)) throw new ConfigError(name, `must be ${what}, got '${v}'`);
  return v;
}

/** A Go duration (`500ms`, `15s`) as milliseconds, at least `minMs`. */
function millis(name: string, v: string, minMs: number): number {
  let ns: bigint;
  try {
    ns = parseGoDuration(name, v);
  } catch {
    throw new ConfigError(name, `must be a duration like 500ms, 2s or 15s, got '${v}'`);
  }
  const ms = Number(ns / 1_000_000n);
  if (ms < minMs) throw new ConfigError(name, `must be at least ${minMs} ms, got '${v}'`);
  return ms;
}

function leaderElection(s: RawSettings): ApproverConfig['leaderElection'] {
  const leaseDurationMs = millis(
    'LEADER_ELECTION_LEASE_DURATION',
    get(s, 'LEADER_ELECTION_LEASE_DURATION'),
    1000,
  );
  if (leaseDurationMs % 1000 !== 0)
    throw new ConfigError(
      'LEADER_ELECTION_LEASE_DURATION',
      'must be a whole number of seconds (a Lease counts seconds)',
    );
  const renewDeadlineMs = millis(
    'LEADER_ELECTION_RENEW_DEADLINE',
    get(s, 'LEADER_ELECTION_RENEW_DEADLINE'),
    100,
  );
  const retryPeriodMs = millis('LEADER_ELECTION_RETRY_PERIOD', get(s, 'LEADER_ELECTION_RETRY_PERIOD'), 100);
  if (renewDeadlineMs >= leaseDurationMs)
    throw new ConfigError(
      'LEADER_ELECTION_RENEW_DEADLINE',
      'must be shorter than LEADER_ELECTION_LEASE_DURATION',
    );
  if (retryPeriodMs >= renewDeadlineMs)
    throw new ConfigError(
      'LEADER_ELECTION_RETRY_PERIOD',
      'must be shorter than LEADER_ELECTION_RENEW_DEADLINE',
    );
  const pod = s.get('POD_NAME') ?? hostname();
  return {
    namespace: matching(
      'LEADER_ELECTION_NAMESPACE',
      get(s, 'LEADER_ELECTION_NAMESPACE'),
      DNS1123_LABEL,
      'a namespace name',
    ),
    leaseName: matching(
      'LEADER_ELECTION_LEASE_NAME',
      get(s, 'LEADER_ELECTION_LEASE_NAME'),
      DNS1123_SUBDOMAIN,
      'a Kubernetes object name',
    ),
    identity: `${p.nonEmpty('POD_NAME', pod, 200)}_${randomBytes(4).toString('hex')}`,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
  };
}

export function loadApproverConfig(argv: string[], env: NodeJS.ProcessEnv): ApproverConfig {
  const s = readTable(argv, env, APPROVER_TABLE);
  const name = s.get('ISSUER_NAME');
  if (name === undefined)
    throw new ConfigError(
      'ISSUER_NAME',
      'is required (the issuer whose CertificateRequests this approver decides)',
    );
  const keys = parseKeyPolicy(get(s, 'ALLOWED_KEYS'));
  if (typeof keys === 'string') throw new ConfigError('ALLOWED_KEYS', keys);
  const durationMs = millis('CERTIFICATE_DURATION', get(s, 'CERTIFICATE_DURATION'), 60_000);
  if (durationMs % 1000 !== 0)
    throw new ConfigError('CERTIFICATE_DURATION', 'must be a whole number of seconds');
  const health = get(s, 'HEALTH_LISTEN_ADDR');
  return {
    logLevel: p.logLevel('LOG_LEVEL', get(s, 'LOG_LEVEL')),
    kubeconfig: s.has('KUBECONFIG') ? p.nonEmpty('KUBECONFIG', s.get('KUBECONFIG')!, 4096) : undefined,
    issuerRef: {
      name: matching('ISSUER_NAME', name, DNS1123_SUBDOMAIN, 'an issuer name (DNS-1123 subdomain)'),
      kind: matching(
        'ISSUER_KIND',
        get(s, 'ISSUER_KIND'),
        /^[A-Za-z][A-Za-z0-9]{0,62}$/,
        'a kind like ClusterIssuer',
      ),
      group: matching(
        'ISSUER_GROUP',
        get(s, 'ISSUER_GROUP'),
        DNS1123_SUBDOMAIN,
        'an API group like cert-manager.io',
      ),
    },
    trustDomain: p.domain('TRUST_DOMAIN', get(s, 'TRUST_DOMAIN')),
    durationSeconds: durationMs / 1000,
    keys,
    leaderElection: leaderElection(s),
    healthListenAddr: health === 'off' ? undefined : p.listenAddress('HEALTH_LISTEN_ADDR', health).address,
  };
}
