/** Shared fixtures and table runners for this folder's tests (imported only by `*.test.ts`). */
import { expect, it } from 'vitest';
import { Code, InvalidArgumentError } from '../common/errors.js';
import { thrownBy } from '../common/testing.js';
import { ATTRIBUTE_PREFIX } from './attribute-table.js';
import type { CertificateSpec, PodInfo } from './certificate-spec.js';
import { parseVolumeAttributes, type ParseVolumeAttributesInput } from './parse-attributes.js';

export const P = ATTRIBUTE_PREFIX;

export const POD: PodInfo = {
  name: 'web-0',
  namespace: 'shop',
  uid: '3f1c2a9e-8d4b-4c5e-9f0a-1b2c3d4e5f60',
  serviceAccount: 'web-sa',
};

/** Attribute names without '/' get our prefix; full keys are kept. */
export function prefixed(attrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k.includes('/') ? k : P + k, v]));
}

export function parse(
  attrs: Record<string, string>,
  extra: Partial<Omit<ParseVolumeAttributesInput, 'volumeContext'>> = {},
): CertificateSpec {
  return parseVolumeAttributes({
    volumeContext: prefixed(attrs),
    pod: POD,
    clusterDomain: 'cluster.local',
    checkFileName: () => undefined,
    ...extra,
  });
}

/** Runs `fn` and returns the InvalidArgumentError it throws; fails if it throws nothing or something else. */
export function catchInvalid(fn: () => unknown): InvalidArgumentError {
  return thrownBy(fn, InvalidArgumentError);
}

/** [test name, volume attributes, what to look at in the spec, what that must equal]. */
export type ParseCase = [
  name: string,
  attrs: Record<string, string>,
  pick: (s: CertificateSpec) => unknown,
  want: unknown,
];

/** One test per case: `pick(parse(attrs))` equals `want`. */
export function itParses(cases: readonly ParseCase[]): void {
  it.each(cases)('%s', (_name, attrs, pick, want) => {
    expect(pick(parse(attrs))).toEqual(want);
  });
}

/**
 * [test name, volume attributes the parser refuses, a phrase of the reason, the attribute the error
 * names (default: the last one of attrs; names without '/' get our prefix)].
 */
export type Rejection = [name: string, attrs: Record<string, string>, phrase: string, field?: string];

/**
 * One test per case, titled `title` (`%s` is the case's name): `parse(attrs)` throws an
 * InvalidArgumentError (INVALID_ARGUMENT) as the case says.
 */
export function itRejects(cases: readonly Rejection[], title = '%s'): void {
  it.each(cases)(title, (_name, attrs, phrase, field) => {
    const e = catchInvalid(() => parse(attrs));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e.code).toBe(Code.INVALID_ARGUMENT);
    const named = field ?? Object.keys(attrs).at(-1)!;
    expect(e.field).toBe(named.includes('/') ? named : P + named);
    expect(e.reason).toContain(phrase);
  });
}
