/**
 * The node's Kubernetes status settings (docs/status-objects.md): STATUS_OBJECTS and POD_EVENTS
 * (`auto`, `true`, `false`; `auto` = on when there is a Kubernetes config: KUBECONFIG set, or the
 * process runs in a pod), STATUS_QPS and STATUS_BURST (the token bucket of their API writes, like
 * client-go's 5/10), and KUBECONFIG.
 */
import { ConfigError, valueOf, type RawSettings, type SettingsTable } from './settings.js';
import * as p from './parsers.js';

const AUTO = 'auto (on with KUBECONFIG or in a pod)';

export const STATUS_TABLE = {
  KUBECONFIG: { help: '(in-cluster config)' },
  STATUS_OBJECTS: { default: 'auto', help: AUTO },
  POD_EVENTS: { default: 'auto', help: AUTO },
  STATUS_QPS: { default: '5' },
  STATUS_BURST: { default: '10' },
} as const satisfies SettingsTable;

/**
 * The token bucket at STATUS_QPS and STATUS_BURST's defaults: the rate of cert-manager mode's own
 * Events when status objects and pod Events are both off (and `status` is undefined).
 */
export const DEFAULT_STATUS_RATE = {
  qps: Number(STATUS_TABLE.STATUS_QPS.default),
  burst: Number(STATUS_TABLE.STATUS_BURST.default),
};

export interface NodeStatusSettings {
  /** CertVolumeStatus objects per volume. */
  objects: boolean;
  /** Warning Events on pods for failed issuance and renewal. */
  events: boolean;
  qps: number;
  burst: number;
}

/** A decimal number of requests per second, 0 < qps ≤ 1000. */
function qps(name: string, v: string): number {
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
  if (!(n > 0 && n <= 1000))
    throw new ConfigError(name, `must be a number of requests per second in (0, 1000], got '${v}'`);
  return n;
}

/** `auto` (on with a Kubernetes config), or the one boolean of settings. */
function toggle(s: RawSettings, name: string, haveKube: boolean): boolean {
  const v = p.oneOf(name, valueOf(s, STATUS_TABLE, name), ['auto', 'true', 'false'] as const);
  if (v === 'auto') return haveKube;
  const on = p.bool(name, v);
  if (on && !haveKube) {
    throw new ConfigError(name, 'is true but there is no Kubernetes config: set KUBECONFIG or run in a pod');
  }
  return on;
}

/** `kubeconfig` (undefined = in-cluster) and `status` (undefined when objects and Events are both off). */
export function nodeStatusSettings(
  s: RawSettings,
  env: NodeJS.ProcessEnv,
): { kubeconfig?: string | undefined; status?: NodeStatusSettings | undefined } {
  const kubeconfig = s.has('KUBECONFIG') ? p.nonEmpty('KUBECONFIG', s.get('KUBECONFIG')!, 4096) : undefined;
  const haveKube = kubeconfig !== undefined || !!env.KUBERNETES_SERVICE_HOST;
  const objects = toggle(s, 'STATUS_OBJECTS', haveKube);
  const events = toggle(s, 'POD_EVENTS', haveKube);
  const rate = {
    qps: qps('STATUS_QPS', valueOf(s, STATUS_TABLE, 'STATUS_QPS')),
    burst: p.positiveInt('STATUS_BURST', valueOf(s, STATUS_TABLE, 'STATUS_BURST'), 1, 1000),
  };
  return { kubeconfig, status: objects || events ? { objects, events, ...rate } : undefined };
}
