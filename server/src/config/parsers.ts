import { isAbsolute } from 'node:path';
import { isIP } from 'node:net';
import { ConfigError } from './settings.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function logLevel(name: string, v: string): LogLevel {
  const l = v.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(l)) {
    throw new ConfigError(name, `must be one of ${LOG_LEVELS.join(', ')}, got '${v}'`);
  }
  return l as LogLevel;
}

export function absolutePath(name: string, v: string): string {
  if (!isAbsolute(v)) throw new ConfigError(name, `must be an absolute path, got '${v}'`);
  return v;
}

/** `host:port`, `[v6]:port` or `:port`; returns grpc-js / net form `host:port`. */
export function listenAddress(name: string, v: string): { host: string; port: number; address: string } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v);
  if (!m) throw new ConfigError(name, `must be host:port (e.g. 0.0.0.0:50051), got '${v}'`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  const port = Number(m[3]);
  if (port > 65535) throw new ConfigError(name, `port ${port} is out of range`);
  if (m[1] && isIP(m[1]) !== 6) throw new ConfigError(name, `'${m[1]}' is not an IPv6 address`);
  return { host, port, address: m[1] ? `[${host}]:${port}` : `${host}:${port}` };
}

/** A gRPC listen address: `host:port` (see listenAddress) or a unix socket `unix:///abs/path.sock`. */
export function grpcListenAddress(name: string, v: string): string {
  if (v.startsWith('unix:')) {
    if (!/^unix:\/\/\/[^\0]+$/.test(v))
      throw new ConfigError(name, `unix sockets look like unix:///abs/path.sock, got '${v}'`);
    return v;
  }
  return listenAddress(name, v).address;
}

/**
 * A gRPC target for the issuer. Accepts `http://host:port` (the primary spec's spelling), `host:port`,
 * `dns:///host:port` and `unix:///abs/path` (`unix:` forms are passed through).
 */
export function grpcTarget(name: string, v: string): string {
  if (v.startsWith('unix:')) {
    if (!/^unix:(\/\/)?\/[^\0]+$/.test(v) && !/^unix:\\\\\.\\pipe\\.+$/.test(v)) {
      throw new ConfigError(name, `unix targets look like unix:///abs/path.sock, got '${v}'`);
    }
    return v;
  }
  const stripped = v.replace(/^(https?:\/\/|dns:\/\/\/)/, '');
  if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(stripped) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(stripped)) {
    throw new ConfigError(name, `must be host:port, http://host:port or unix:///path, got '${v}'`);
  }
  return stripped;
}

/**
 * A CSI endpoint: `unix:///abs/path.sock`, a bare absolute path, or a Windows named pipe in any
 * spelling the Windows adapter accepts (`\\.\pipe\NAME`, `//./pipe/NAME`, `npipe://./pipe/NAME`,
 * `npipe:////./pipe/NAME`, `unix:\\.\pipe\NAME`, `unix://./pipe/NAME`, `unix:////./pipe/NAME`); the
 * adapter checks the pipe name itself.
 */
export function csiEndpoint(name: string, v: string): string {
  if (/^unix:\/\/\/[^\0]+$/.test(v) || /^\/[^\0]+$/.test(v)) return v;
  if (
    /^(npipe:\/\/|unix:)?(\\\\|\/\/)\.[\\/]pipe[\\/].+$/i.test(v) ||
    /^(npipe|unix):(\/\/|\/\/\/\/)\.\/pipe\/.+$/i.test(v)
  )
    return v;
  throw new ConfigError(
    name,
    `must be unix:///abs/path.sock or a named pipe (\\\\.\\pipe\\name), got '${v}'`,
  );
}

/** A DNS domain like `cluster.local`. */
export function domain(name: string, v: string): string {
  const ok = v.length <= 253 && v.split('.').every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
  if (!ok) throw new ConfigError(name, `must be a lower-case DNS domain like cluster.local, got '${v}'`);
  return v;
}

/** The one boolean of settings: exactly `true` or `false`. */
export function bool(name: string, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw new ConfigError(name, `must be true or false, got '${v}'`);
  return v === 'true';
}

export function nonEmpty(name: string, v: string, max = 253): string {
  if (!v || v.length > max || /[\0\n]/.test(v))
    throw new ConfigError(name, `must be 1–${max} printable characters`);
  return v;
}

export function oneOf<T extends string>(name: string, v: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got '${v}'`);
  }
  return v as T;
}

export function positiveInt(name: string, v: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be a whole number, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

const UNITS: Record<string, number> = {
  '': 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
};

/** A Kubernetes-style quantity of bytes: `1Mi`, `512Ki`, `1048576`. */
export function byteSize(name: string, v: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(v);
  if (!m) throw new ConfigError(name, `must be a size like 1Mi or 512Ki, got '${v}'`);
  return Number(m[1]) * UNITS[m[2] ?? '']!;
}

/** Go-style duration subset used in settings: `90s`, `5m`, `24h`, `1h30m`. */
export function durationSeconds(name: string, v: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(v);
  if (!m || v === '') throw new ConfigError(name, `must be a duration like 90s, 5m or 24h, got '${v}'`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
