/**
 * Reads settings from flags and environment variables. A flag `--cert-base-path=/x` (or
 * `--cert-base-path /x`) is the same setting as `CERT_BASE_PATH=/x`; the flag wins. Unknown flags
 * are an error so a typo never silently falls back to a default.
 */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    reason: string,
  ) {
    super(`${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export type RawSettings = Map<string, string>;

/** `cert-base-path` → `CERT_BASE_PATH`. */
export function flagToEnv(flag: string): string {
  return flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase();
}

/** Merges env and flags into one map keyed by the env name. `known` lists every accepted name. */
export function readSettings(argv: string[], env: NodeJS.ProcessEnv, known: readonly string[]): RawSettings {
  const out: RawSettings = new Map();
  for (const name of known) {
    const v = env[name];
    if (v !== undefined && v !== '') out.set(name, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new ConfigError(arg, 'unexpected argument; settings are given as --name=value');
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const name = flagToEnv(flag);
    if (!known.includes(name)) {
      throw new ConfigError(
        flag,
        `unknown flag; known: ${known.map((k) => '--' + k.toLowerCase().replace(/_/g, '-')).join(', ')}`,
      );
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new ConfigError(flag, 'needs a value');
      i++;
    }
    out.set(name, value);
  }
  return out;
}
