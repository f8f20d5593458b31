/**
 * Reads settings from flags and environment variables. A flag `--cert-base-path=/x` (or
 * `--cert-base-path /x`) is the same setting as `CERT_BASE_PATH=/x`; the flag wins. Unknown flags
 * are an error so a typo never silently falls back to a default.
 *
 * Each role declares its settings once, as a table (`SettingsTable`): the names it accepts, the
 * default an unset setting takes, and how `--help` shows it. Parsing reads defaults from the table
 * (`valueOf`), so a default is spelled in one place.
 */
import { ConfigError } from '../common/errors.js';

export { ConfigError };

export type RawSettings = Map<string, string>;

/** One setting of a role. */
export interface Setting {
  /** The value an unset setting takes; absent when there is none (optional, required, or computed). */
  readonly default?: string;
  /** How `--help` shows the default when it is not the literal `default` (`(hostname)`); "" = required. */
  readonly help?: string;
  /** Turns the text into the typed value; throws a ConfigError naming the setting. Absent: the text. */
  readonly parse?: (name: string, raw: string) => unknown;
}

/** What `read` returns for a setting: its parser's result, else the text. */
export type Parsed<S> = S extends { parse: (name: string, raw: string) => infer T } ? T : string;

/** A role's settings by name (the environment variable's spelling). */
export type SettingsTable = Readonly<Record<string, Setting>>;

/** The default cluster DNS domain, the one place it is spelled. */
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** The default column of `--help`: each setting's `help`, else its literal default ("" = required). */
export function helpOf(table: SettingsTable): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([name, s]) => [name, s.help ?? s.default ?? '']));
}

/** The value of `name`: as given, else the table's default. A name without a default is a bug. */
export function valueOf(s: RawSettings, table: SettingsTable, name: string): string {
  const v = s.get(name) ?? table[name]?.default;
  if (v === undefined) throw new Error(`setting ${name} has no default in its table`);
  return v;
}

/** The value of `name` (as given, else its default) through the table's parser. */
export function read<T extends SettingsTable, K extends keyof T & string>(
  s: RawSettings,
  table: T,
  name: K,
): Parsed<T[K]> {
  const raw = valueOf(s, table, name);
  const parse = table[name]?.parse;
  return (parse ? parse(name, raw) : raw) as Parsed<T[K]>;
}

/** Reads flags and env for exactly the settings of `table` (see `readSettings`). */
export function readTable(argv: string[], env: NodeJS.ProcessEnv, table: SettingsTable): RawSettings {
  return readSettings(argv, env, Object.keys(table));
}

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
