/**
 * Settings of the `cluster-view` role (docs/dashboard.md). Every error names the setting.
 */
import { ConfigError, readSettings } from '../config/settings.js';
import * as p from '../config/parsers.js';
import type { LogLevel } from '../config/parsers.js';

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

export const CLUSTER_VIEW_DEFAULTS: Record<string, string> = {
  LOG_LEVEL: 'info',
  KUBECONFIG: '(in-cluster config)',
  API_LISTEN_ADDR: '0.0.0.0:8080',
  API_ALLOWED_HOSTS: '(localhost, 127.0.0.1, ::1 only)',
  API_CORS_ORIGINS: '(none: CORS closed)',
  STALE_AFTER: '5m',
  CA_BUNDLE_FILE: '(unset: CA state unknown)',
};

const HOST =
  /^(?:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(?:\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$|^[0-9a-f:.]+$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function loadClusterViewConfig(argv: string[], env: NodeJS.ProcessEnv): ClusterViewConfig {
  const s = readSettings(argv, env, Object.keys(CLUSTER_VIEW_DEFAULTS));
  const allowedHosts = list(s.get('API_ALLOWED_HOSTS')).map((h) => h.toLowerCase());
  for (const h of allowedHosts) {
    if (h.length > 253 || !HOST.test(h))
      throw new ConfigError('API_ALLOWED_HOSTS', `'${h}' is not a host name`);
  }
  const corsOrigins = list(s.get('API_CORS_ORIGINS'));
  for (const o of corsOrigins) {
    if (!ORIGIN.test(o))
      throw new ConfigError('API_CORS_ORIGINS', `'${o}' is not an origin like https://ops.example.com`);
  }
  const stale = p.durationSeconds('STALE_AFTER', s.get('STALE_AFTER') ?? '5m');
  if (stale < 30)
    throw new ConfigError('STALE_AFTER', 'must be at least 30s (status writes lag by volumes / STATUS_QPS)');
  const ca = s.get('CA_BUNDLE_FILE');
  return {
    logLevel: p.logLevel('LOG_LEVEL', s.get('LOG_LEVEL') ?? 'info'),
    kubeconfig: s.get('KUBECONFIG'),
    listenAddr: p.listenAddress('API_LISTEN_ADDR', s.get('API_LISTEN_ADDR') ?? '0.0.0.0:8080').address,
    allowedHosts,
    corsOrigins,
    staleGraceMs: stale * 1000,
    caBundleFile: ca === undefined ? undefined : p.absolutePath('CA_BUNDLE_FILE', ca),
  };
}
