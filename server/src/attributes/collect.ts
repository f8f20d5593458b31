/**
 * Picks our attributes out of a volume context: keys under `csi.k8s.cert-driver/` or
 * `csi.cert-manager.io/`. Other keys (kubelet's `csi.storage.k8s.io/*`, anything else) are ignored.
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import { ATTRIBUTE_NAMES, ATTRIBUTE_PREFIXES, type AttributeName } from './attribute-table.js';

/** An attribute's value and the full key the user wrote it under (for error messages). */
export interface RawAttribute {
  key: string;
  value: string;
}

export type RawAttributes = ReadonlyMap<AttributeName, RawAttribute>;

/**
 * Rejects unknown names under our prefixes (suggesting a close known name) and an attribute given
 * under both prefixes; the error names the offending full key.
 */
export function collectAttributes(volumeContext: Record<string, string>): RawAttributes {
  const found = new Map<AttributeName, RawAttribute>();
  for (const key of Object.keys(volumeContext).sort()) {
    const prefix = ATTRIBUTE_PREFIXES.find((p) => key.startsWith(p));
    if (prefix === undefined) continue;
    const name = key.slice(prefix.length);
    if (!isAttributeName(name)) {
      const close = closestName(name);
      const hint = close === undefined ? '' : `; did you mean '${prefix}${close}'?`;
      throw new InvalidArgumentError(key, `is not a known attribute${hint}`);
    }
    const previous = found.get(name);
    if (previous !== undefined) {
      throw new InvalidArgumentError(
        key,
        `is also given as ${quoteValue(previous.key)}; set it under one prefix only`,
      );
    }
    found.set(name, { key, value: volumeContext[key] ?? '' });
  }
  return found;
}

function isAttributeName(name: string): name is AttributeName {
  return (ATTRIBUTE_NAMES as readonly string[]).includes(name);
}

/** The known name within edit distance 2 of `name` (the nearest, first in table order on ties). */
export function closestName(name: string): AttributeName | undefined {
  let best: AttributeName | undefined;
  let bestDistance = 3;
  for (const candidate of ATTRIBUTE_NAMES) {
    const d = editDistance(name.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
