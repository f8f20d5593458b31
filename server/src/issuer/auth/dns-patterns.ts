/**
 * DNS-name patterns of the issuer's identity policy (`ISSUER_ALLOWED_DNS_NAMES`): literal names with
 * `${POD_NAME}`, `${POD_NAMESPACE}`, `${SERVICE_ACCOUNT}` and `${CLUSTER_DOMAIN}` placeholders, and
 * an optional leading `*.` that stands for exactly one label. Matching is case-insensitive.
 */
import { ConfigError } from '../../config/settings.js';

export const DNS_PATTERN_VARIABLES = [
  'POD_NAME',
  'POD_NAMESPACE',
  'SERVICE_ACCOUNT',
  'CLUSTER_DOMAIN',
] as const;
export type DnsPatternVariable = (typeof DNS_PATTERN_VARIABLES)[number];
export type DnsPatternValues = Record<DnsPatternVariable, string>;

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const PLACEHOLDER = /\$\{([A-Za-z_]+)\}/g;

/** Splits and validates a comma-separated pattern list. Throws ConfigError naming `setting`. */
export function parseDnsPatterns(setting: string, text: string): string[] {
  const patterns = text
    .split(',')
    .map((p) =>
      p
        .trim()
        .toLowerCase()
        .replace(/\$\{([a-z_]+)\}/g, (_, v: string) => `\${${v.toUpperCase()}}`),
    )
    .filter((p) => p !== '');
  for (const p of patterns) {
    for (const [, name] of p.matchAll(PLACEHOLDER)) {
      if (!(DNS_PATTERN_VARIABLES as readonly string[]).includes(name ?? '')) {
        throw new ConfigError(
          setting,
          `unknown placeholder \${${name}} in '${p}'; known: ${DNS_PATTERN_VARIABLES.map((v) => `\${${v}}`).join(', ')}`,
        );
      }
    }
    const sample = p.replace(PLACEHOLDER, 'x').replace(/^\*\./, '');
    if (sample.length > 253 || !sample.split('.').every((l) => LABEL.test(l))) {
      throw new ConfigError(
        setting,
        `'${p}' is not a DNS name pattern (labels of a-z, 0-9 and '-', an optional leading '*.')`,
      );
    }
  }
  return patterns;
}

/** The pattern with its placeholders replaced by `values`. */
export function expandDnsPattern(pattern: string, values: DnsPatternValues): string {
  return pattern.replace(PLACEHOLDER, (_, name: string) => values[name as DnsPatternVariable].toLowerCase());
}

/** Whether `name` matches the expanded `pattern`: equal, or one label in place of a leading `*`. */
export function matchesDnsPattern(name: string, expanded: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!expanded.startsWith('*.')) return n === expanded;
  const suffix = expanded.slice(1);
  const first = n.slice(0, n.length - suffix.length);
  return n.endsWith(suffix) && first.length > 0 && !first.includes('.');
}
