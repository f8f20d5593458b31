import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * The one place secrets are kept out of logs. Paths listed here are replaced by "[REDACTED]"
 * wherever they appear in a log object; `redactVolumeContext` removes kubelet's token map before a
 * volume context is ever handed to a logger. Keys and tokens must never be logged by value.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'tokens',
  '*.tokens',
  'privateKey',
  '*.privateKey',
  'privateKeyPem',
  '*.privateKeyPem',
  'pkcs12Password',
  '*.pkcs12Password',
  'password',
  '*.password',
  'secrets',
  '*.secrets',
  'volume_context["csi.storage.k8s.io/serviceAccount.tokens"]',
  '*.volume_context["csi.storage.k8s.io/serviceAccount.tokens"]',
  'volumeContext["csi.storage.k8s.io/serviceAccount.tokens"]',
];

const TOKEN_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
const SECRET_ATTRIBUTE = /pkcs12-password$/;

/** A copy of a CSI volume context that is safe to log: the token map and passwords are redacted. */
export function redactVolumeContext(ctx: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx))
    out[k] = k === TOKEN_KEY || SECRET_ATTRIBUTE.test(k) ? '[REDACTED]' : v;
  return out;
}

export interface LoggerOptions {
  level: string;
  role: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

/** Structured JSON logs, one object per line, with the role on every line. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { role: opts.role },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ sync: true }),
  );
}
