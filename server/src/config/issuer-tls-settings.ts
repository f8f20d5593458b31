/**
 * TLS between the node and the issuer (docs/adr/0019-verified-issuer-answers-and-tls.md).
 * Node: ISSUER_TLS_CA_FILE (the CA the issuer's serving certificate must chain to; set = TLS),
 * ISSUER_TLS_SERVER_NAME (the name it must carry; default the host of CERT_SERVICE_ADDR),
 * ISSUER_TLS_CLIENT_CERT_FILE/_KEY_FILE (mTLS), ISSUER_PLAINTEXT=true (explicitly no TLS).
 * Issuer: LISTEN_TLS_CERT_FILE/_KEY_FILE (set = TLS), LISTEN_TLS_CLIENT_CA_FILE (client certificates
 * required, mTLS), LISTEN_PLAINTEXT=true. In a pod (KUBERNETES_SERVICE_HOST set) a missing TLS setting
 * stops the start unless plaintext is asked for explicitly. Outside a pod (development, tests, the
 * demo) plaintext is the default; the roles log a warning when it is not on loopback or a unix socket.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, read, type RawSettings, type SettingsTable } from './settings.js';
import * as p from './parsers.js';

/** The file setting that turns TLS on: required in a pod unless `plaintext` is true. */
function tlsFileRequiredInPod(plaintext: string) {
  return {
    help: `(in a pod required unless ${plaintext}=true; outside a pod plaintext)`,
    parse: p.absolutePath,
  };
}

/** The node's settings for its channel to the issuer: defaults, parsers and `--help` text. */
export const NODE_ISSUER_TLS_TABLE = {
  ISSUER_TLS_CA_FILE: tlsFileRequiredInPod('ISSUER_PLAINTEXT'),
  ISSUER_TLS_SERVER_NAME: { help: '(the host of CERT_SERVICE_ADDR)', parse: p.domain },
  ISSUER_TLS_CLIENT_CERT_FILE: { help: '(none: no client certificate)', parse: p.absolutePath },
  ISSUER_TLS_CLIENT_KEY_FILE: { help: '(none)', parse: p.absolutePath },
  ISSUER_PLAINTEXT: { default: 'false', parse: p.bool },
} as const satisfies SettingsTable;

/** The issuer's settings for serving TLS. */
export const ISSUER_LISTEN_TLS_TABLE = {
  LISTEN_TLS_CERT_FILE: tlsFileRequiredInPod('LISTEN_PLAINTEXT'),
  LISTEN_TLS_KEY_FILE: { help: '(required with LISTEN_TLS_CERT_FILE)', parse: p.absolutePath },
  LISTEN_TLS_CLIENT_CA_FILE: { help: '(none: client certificates not asked for)', parse: p.absolutePath },
  LISTEN_PLAINTEXT: { default: 'false', parse: p.bool },
} as const satisfies SettingsTable;

/** How the node reaches the issuer over TLS. */
export interface IssuerClientTls {
  caFile: string;
  /** The name the serving certificate must carry; undefined = the target's host. */
  serverName?: string | undefined;
  /** mTLS: the node's client certificate chain and key. */
  client?: { certFile: string; keyFile: string } | undefined;
}

/** How the issuer serves TLS. */
export interface IssuerServingTls {
  certFile: string;
  keyFile: string;
  /** mTLS: client certificates must chain to this CA. */
  clientCaFile?: string | undefined;
}

/** A unix socket, `localhost`, 127.0.0.0/8 or ::1: traffic that never leaves the machine. */
export function isLocalAddress(target: string): boolean {
  if (target.startsWith('unix:') || target.startsWith('/')) return true;
  const host = target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A certificate and key file given together, or neither; each through its row's parser. */
function pair<T extends SettingsTable>(
  s: RawSettings,
  table: T,
  cert: keyof T & string,
  key: keyof T & string,
): { certFile: string; keyFile: string } | undefined {
  if (!s.has(cert) && !s.has(key)) return undefined;
  if (!s.has(cert) || !s.has(key))
    throw new ConfigError(s.has(cert) ? key : cert, `is required with ${s.has(cert) ? cert : key}`);
  return { certFile: read(s, table, cert) as string, keyFile: read(s, table, key) as string };
}

/** The node's `issuerTls`; undefined = plaintext, allowed as the module comment says. */
export function nodeIssuerTls(
  s: RawSettings,
  env: NodeJS.ProcessEnv,
  certServiceAddr: string,
): { issuerTls?: IssuerClientTls | undefined } {
  const t = NODE_ISSUER_TLS_TABLE;
  const plaintext = read(s, t, 'ISSUER_PLAINTEXT');
  const client = pair(s, t, 'ISSUER_TLS_CLIENT_CERT_FILE', 'ISSUER_TLS_CLIENT_KEY_FILE');
  if (!s.has('ISSUER_TLS_CA_FILE')) {
    if (client || s.has('ISSUER_TLS_SERVER_NAME'))
      throw new ConfigError('ISSUER_TLS_CA_FILE', 'is required with the other ISSUER_TLS_* settings');
    if (plaintext || !env.KUBERNETES_SERVICE_HOST) return {};
    throw new ConfigError(
      'ISSUER_TLS_CA_FILE',
      `is required to reach the issuer at ${certServiceAddr} (pod tokens must not cross the network in clear); set ISSUER_PLAINTEXT=true to send them unencrypted anyway`,
    );
  }
  if (plaintext) throw new ConfigError('ISSUER_PLAINTEXT', 'cannot be true together with ISSUER_TLS_CA_FILE');
  return {
    issuerTls: {
      caFile: read(s, t, 'ISSUER_TLS_CA_FILE'),
      serverName: s.has('ISSUER_TLS_SERVER_NAME') ? read(s, t, 'ISSUER_TLS_SERVER_NAME') : undefined,
      client,
    },
  };
}

/** The issuer's `servingTls`; undefined = plaintext, allowed as the module comment says. */
export function issuerServingTls(
  s: RawSettings,
  env: NodeJS.ProcessEnv,
  listenAddr: string,
): { servingTls?: IssuerServingTls | undefined } {
  const t = ISSUER_LISTEN_TLS_TABLE;
  const plaintext = read(s, t, 'LISTEN_PLAINTEXT');
  const serving = pair(s, t, 'LISTEN_TLS_CERT_FILE', 'LISTEN_TLS_KEY_FILE');
  if (!serving) {
    if (s.has('LISTEN_TLS_CLIENT_CA_FILE'))
      throw new ConfigError('LISTEN_TLS_CERT_FILE', 'is required with LISTEN_TLS_CLIENT_CA_FILE');
    if (plaintext || !env.KUBERNETES_SERVICE_HOST) return {};
    throw new ConfigError(
      'LISTEN_TLS_CERT_FILE',
      `is required to serve on ${listenAddr} (callers send pod tokens); set LISTEN_PLAINTEXT=true to serve without TLS anyway`,
    );
  }
  if (plaintext)
    throw new ConfigError('LISTEN_PLAINTEXT', 'cannot be true together with LISTEN_TLS_CERT_FILE');
  return {
    servingTls: {
      ...serving,
      clientCaFile: s.has('LISTEN_TLS_CLIENT_CA_FILE') ? read(s, t, 'LISTEN_TLS_CLIENT_CA_FILE') : undefined,
    },
  };
}

/** The file a TLS setting names, read now; an unreadable one is a ConfigError naming the setting. */
export function readSettingFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(setting, `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}
