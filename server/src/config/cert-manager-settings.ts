/**
 * cert-manager mode of the node (docs/cert-manager.md): CERT_MANAGER_ENABLED turns it on; the
 * others tune it and are refused without it. The API server is reached with KUBECONFIG (shared with
 * the status settings; unset = the in-cluster config), which must exist when given.
 */
import { existsSync } from 'node:fs';
import * as p from './parsers.js';
import { ConfigError, valueOf, type RawSettings, type SettingsTable } from './settings.js';

export const CERT_MANAGER_TABLE = {
  CERT_MANAGER_ENABLED: { default: 'false' },
  CERT_MANAGER_TIMEOUT: { default: '60s' },
  CERT_MANAGER_IDENTITY: { default: 'pod' },
  CERT_MANAGER_TOKEN_AUDIENCE: { default: '', help: '("": the API server\'s own audiences)' },
  CERT_MANAGER_CLEANUP_INTERVAL: { default: '5m' },
} as const satisfies SettingsTable;

const get = (s: RawSettings, name: keyof typeof CERT_MANAGER_TABLE): string =>
  valueOf(s, CERT_MANAGER_TABLE, name);

export interface CertManagerConfig {
  /** CERT_MANAGER_TIMEOUT: how long one publish or renewal waits for cert-manager (1s–110s). */
  timeoutMs: number;
  /** CERT_MANAGER_IDENTITY: create requests as the pod's service account or as the driver's own. */
  identity: 'pod' | 'driver';
  /** CERT_MANAGER_TOKEN_AUDIENCE: key of the pod's API token in kubelet's token map ("" = the API server's). */
  tokenAudience: string;
  /** CERT_MANAGER_CLEANUP_INTERVAL: how often stale requests of this node are deleted. */
  cleanupIntervalMs: number;
}

/** kubelet gives NodePublishVolume 2 minutes; the wait must end well before kubelet gives up. */
const MAX_TIMEOUT_SECONDS = 110;

/** `certManager` is undefined when CERT_MANAGER_ENABLED is false (the default). */
export function certManagerSettings(s: RawSettings): { certManager?: CertManagerConfig | undefined } {
  if (!p.bool('CERT_MANAGER_ENABLED', get(s, 'CERT_MANAGER_ENABLED'))) {
    const stray = Object.keys(CERT_MANAGER_TABLE).find((n) => n !== 'CERT_MANAGER_ENABLED' && s.has(n));
    if (stray) throw new ConfigError(stray, 'applies only with CERT_MANAGER_ENABLED=true');
    return {};
  }
  const timeoutText = get(s, 'CERT_MANAGER_TIMEOUT');
  const timeout = p.durationSeconds('CERT_MANAGER_TIMEOUT', timeoutText);
  if (timeout < 1 || timeout > MAX_TIMEOUT_SECONDS) {
    throw new ConfigError(
      'CERT_MANAGER_TIMEOUT',
      `must be between 1s and ${MAX_TIMEOUT_SECONDS}s (kubelet's NodePublishVolume deadline is 2m), got '${timeoutText}'`,
    );
  }
  const interval = p.durationSeconds(
    'CERT_MANAGER_CLEANUP_INTERVAL',
    get(s, 'CERT_MANAGER_CLEANUP_INTERVAL'),
  );
  if (interval < 1) throw new ConfigError('CERT_MANAGER_CLEANUP_INTERVAL', 'must be at least 1s');
  const kubeconfig = s.get('KUBECONFIG');
  if (kubeconfig !== undefined && !existsSync(kubeconfig)) {
    throw new ConfigError('KUBECONFIG', `${kubeconfig} does not exist (CERT_MANAGER_ENABLED=true needs it)`);
  }
  const audience = get(s, 'CERT_MANAGER_TOKEN_AUDIENCE');
  // eslint-disable-next-line no-control-regex -- an audience is printable text
  if (audience.length > 253 || /[\x00-\x1f\x7f]/.test(audience)) {
    throw new ConfigError('CERT_MANAGER_TOKEN_AUDIENCE', 'must be at most 253 printable characters');
  }
  return {
    certManager: {
      timeoutMs: timeout * 1000,
      identity: p.oneOf('CERT_MANAGER_IDENTITY', get(s, 'CERT_MANAGER_IDENTITY'), ['pod', 'driver'] as const),
      tokenAudience: audience,
      cleanupIntervalMs: interval * 1000,
    },
  };
}
