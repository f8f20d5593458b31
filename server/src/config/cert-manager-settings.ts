/**
 * cert-manager mode of the node (docs/cert-manager.md): CERT_MANAGER_ENABLED turns it on; the
 * others tune it and are refused without it. The API server is reached with KUBECONFIG (shared with
 * the status settings; unset = the in-cluster config), which must exist when given.
 */
import { existsSync } from 'node:fs';
import * as p from './parsers.js';
import { ConfigError, type RawSettings } from './settings.js';

export const CERT_MANAGER_SETTINGS = [
  'CERT_MANAGER_ENABLED',
  'CERT_MANAGER_TIMEOUT',
  'CERT_MANAGER_IDENTITY',
  'CERT_MANAGER_TOKEN_AUDIENCE',
  'CERT_MANAGER_CLEANUP_INTERVAL',
] as const;

export const CERT_MANAGER_DEFAULTS: Record<(typeof CERT_MANAGER_SETTINGS)[number], string> = {
  CERT_MANAGER_ENABLED: 'false',
  CERT_MANAGER_TIMEOUT: '60s',
  CERT_MANAGER_IDENTITY: 'pod',
  CERT_MANAGER_TOKEN_AUDIENCE: '("": the API server\'s own audiences)',
  CERT_MANAGER_CLEANUP_INTERVAL: '5m',
};

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
  const enabled = p.oneOf('CERT_MANAGER_ENABLED', s.get('CERT_MANAGER_ENABLED') ?? 'false', [
    'true',
    'false',
  ] as const);
  if (enabled === 'false') {
    const stray = CERT_MANAGER_SETTINGS.find((n) => n !== 'CERT_MANAGER_ENABLED' && s.has(n));
    if (stray) throw new ConfigError(stray, 'applies only with CERT_MANAGER_ENABLED=true');
    return {};
  }
  const timeoutText = s.get('CERT_MANAGER_TIMEOUT') ?? '60s';
  const timeout = p.durationSeconds('CERT_MANAGER_TIMEOUT', timeoutText);
  if (timeout < 1 || timeout > MAX_TIMEOUT_SECONDS) {
    throw new ConfigError(
      'CERT_MANAGER_TIMEOUT',
      `must be between 1s and ${MAX_TIMEOUT_SECONDS}s (kubelet's NodePublishVolume deadline is 2m), got '${timeoutText}'`,
    );
  }
  const interval = p.durationSeconds(
    'CERT_MANAGER_CLEANUP_INTERVAL',
    s.get('CERT_MANAGER_CLEANUP_INTERVAL') ?? '5m',
  );
  if (interval < 1) throw new ConfigError('CERT_MANAGER_CLEANUP_INTERVAL', 'must be at least 1s');
  const kubeconfig = s.get('KUBECONFIG');
  if (kubeconfig !== undefined && !existsSync(kubeconfig)) {
    throw new ConfigError('KUBECONFIG', `${kubeconfig} does not exist (CERT_MANAGER_ENABLED=true needs it)`);
  }
  const audience = s.get('CERT_MANAGER_TOKEN_AUDIENCE') ?? '';
  // eslint-disable-next-line no-control-regex -- an audience is printable text
  if (audience.length > 253 || /[\x00-\x1f\x7f]/.test(audience)) {
    throw new ConfigError('CERT_MANAGER_TOKEN_AUDIENCE', 'must be at most 253 printable characters');
  }
  return {
    certManager: {
      timeoutMs: timeout * 1000,
      identity: p.oneOf('CERT_MANAGER_IDENTITY', s.get('CERT_MANAGER_IDENTITY') ?? 'pod', [
        'pod',
        'driver',
      ] as const),
      tokenAudience: audience,
      cleanupIntervalMs: interval * 1000,
    },
  };
}
