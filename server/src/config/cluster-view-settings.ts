/**
 * Settings of the `cluster-view` role (docs/dashboard.md). Every error names the setting.
 */
import { ConfigError, helpOf, read, readTable } from './settings.js';
import type { SettingsTable } from './settings.js';
import * as p from './parsers.js';
import type { LogLevel } from './parsers.js';

export interface ClusterViewConfig {
  logLevel: LogLevel;
  kubeconfig?: string | undefined;
  listenAddr: string;
  allowedHosts: string[];
  corsOrigins: string[];
  /** A renewal overdue by more than this (and no report since) flags the node stale. */
  staleGraceMs: number;
  caBundleFile?: string | undefined;
}

const HOST =
  /^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(?:\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$|^[0-9a-f:.]+$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

function list(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** API_ALLOWED_HOSTS: comma-separated host names or IP literals, lower-cased. */
function allowedHosts(name: string, v: string): string[] {
  const hosts = list(v).map((h) => h.toLowerCase());
  for (const h of hosts) {
    if (h.length > 253 || !HOST.test(h)) throw new ConfigError(name, `'${h}' is not a host name`);
  }
  return hosts;
}

/** API_CORS_ORIGINS: comma-separated `http(s)://host[:port]` origins. */
function corsOrigins(name: string, v: string): string[] {
  const origins = list(v);
  for (const o of origins) {
    if (!ORIGIN.test(o)) throw new ConfigError(name, `'${o}' is not an origin like https://ops.example.com`);
  }
  return origins;
}

/** STALE_AFTER in milliseconds, at least 30 s. */
function staleAfter(name: string, v: string): number {
  const seconds = p.durationSeconds(name, v);
  if (seconds < 30)
    throw new ConfigError(name, 'must be at least 30s (status writes lag by volumes / STATUS_QPS)');
  return seconds * 1000;
}

/** Every setting of the cluster-view role: its default, its parser and how `--help` shows it. */
export const CLUSTER_VIEW_TABLE = {
  LOG_LEVEL: { default: 'info', parse: p.logLevel },
  KUBECONFIG: { help: '(in-cluster config)', parse: (n: string, v: string) => p.nonEmpty(n, v, 4096) },
  API_LISTEN_ADDR: {
    default: '0.0.0.0:8080',
    parse: (n: string, v: string) => p.listenAddress(n, v).address,
  },
  API_ALLOWED_HOSTS: { default: '', help: '(none: IP addresses and localhost only)', parse: allowedHosts },
  API_CORS_ORIGINS: { default: '', help: '(none: CORS closed)', parse: corsOrigins },
  STALE_AFTER: { default: '5m', parse: staleAfter },
  CA_BUNDLE_FILE: { help: '(unset: CA state unknown)', parse: p.absolutePath },
} as const satisfies SettingsTable;

/** `--help`'s default column. */
export const CLUSTER_VIEW_DEFAULTS: Record<string, string> = helpOf(CLUSTER_VIEW_TABLE);

export function loadClusterViewConfig(argv: string[], env: NodeJS.ProcessEnv): ClusterViewConfig {
  const s = readTable(argv, env, CLUSTER_VIEW_TABLE);
  return {
    logLevel: read(s, CLUSTER_VIEW_TABLE, 'LOG_LEVEL'),
    kubeconfig: s.has('KUBECONFIG') ? read(s, CLUSTER_VIEW_TABLE, 'KUBECONFIG') : undefined,
    listenAddr: read(s, CLUSTER_VIEW_TABLE, 'API_LISTEN_ADDR'),
    allowedHosts: read(s, CLUSTER_VIEW_TABLE, 'API_ALLOWED_HOSTS'),
    corsOrigins: read(s, CLUSTER_VIEW_TABLE, 'API_CORS_ORIGINS'),
    staleGraceMs: read(s, CLUSTER_VIEW_TABLE, 'STALE_AFTER'),
    caBundleFile: s.has('CA_BUNDLE_FILE') ? read(s, CLUSTER_VIEW_TABLE, 'CA_BUNDLE_FILE') : undefined,
  };
}
