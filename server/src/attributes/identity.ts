/**
 * The certificate's names: subject (common name and the other subject fields) and SANs, with
 * `${POD_*}` expansion and the primary spec's defaults (CN `<pod>.<namespace>.svc.<cluster domain>`,
 * DNS SAN `<pod>`).
 */
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import { emptySubject, type PodInfo, type SubjectSpec } from './certificate-spec.js';
import { ATTRIBUTE_PREFIX } from './attribute-table.js';
import type { RawAttribute, RawAttributes } from './collect.js';
import { expandVariables, expansionValues, type ExpansionValues } from './expand.js';
import {
  NOT_EMPTY,
  canonicalIp,
  checkDnsName,
  checkEmail,
  checkSubjectValue,
  checkUri,
  parseList,
} from './validators.js';

export const MAX_COMMON_NAME = 64;
/** Most entries one SAN attribute may list. */
export const MAX_SANS_PER_ATTRIBUTE = 100;
/** Most entries one subject list attribute may list. */
export const MAX_SUBJECT_ENTRIES = 20;

export interface Identity {
  subject: SubjectSpec;
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emailAddresses: string[];
}

const SAN_ATTRIBUTES = ['dns-names', 'ip-sans', 'uri-sans', 'email-sans'] as const;

/** Max length of each subject list attribute's entries (X.520 upper bounds). */
const SUBJECT_LISTS = [
  ['organizations', 'organizations', 64],
  ['organizational-units', 'organizationalUnits', 64],
  ['provinces', 'provinces', 128],
  ['localities', 'localities', 128],
  ['street-addresses', 'streetAddresses', 128],
  ['postal-codes', 'postalCodes', 40],
] as const;

export function parseIdentity(input: { raw: RawAttributes; pod: PodInfo; clusterDomain: string }): Identity {
  const { raw, pod } = input;
  const vars = expansionValues(pod);
  const anySan = SAN_ATTRIBUTES.some((name) => raw.has(name));
  const identity: Identity = {
    subject: parseSubject(raw, vars, `${pod.name}.${pod.namespace}.svc.${input.clusterDomain}`),
    dnsNames: anySan ? parseSans(raw.get('dns-names'), vars, normaliseDnsName) : [pod.name],
    ipAddresses: parseSans(raw.get('ip-sans'), undefined, normaliseIp),
    uris: parseSans(raw.get('uri-sans'), vars, (uri) => ({ value: uri, reason: checkUri(uri) })),
    emailAddresses: parseSans(raw.get('email-sans'), vars, (e) => ({ value: e, reason: checkEmail(e) })),
  };
  // Guaranteed by the defaults above (SAN lists are never empty); kept as a guard for future defaults.
  const sans = identity.dnsNames.length + identity.ipAddresses.length + identity.uris.length;
  if (sans + identity.emailAddresses.length === 0 && identity.subject.commonName === undefined) {
    throw new InvalidArgumentError(
      raw.get('common-name')?.key ?? `${ATTRIBUTE_PREFIX}common-name`,
      'the certificate needs a common name or at least one SAN',
    );
  }
  return identity;
}

function parseSubject(raw: RawAttributes, vars: ExpansionValues, defaultCommonName: string): SubjectSpec {
  const cn = raw.get('common-name');
  const subject: SubjectSpec = {
    ...emptySubject(),
    commonName: cn === undefined ? defaultCn(defaultCommonName) : parseScalar(cn, vars, MAX_COMMON_NAME),
    countries: parseCountries(raw.get('countries')),
  };
  for (const [name, prop, max] of SUBJECT_LISTS) {
    subject[prop] = parseSubjectList(raw.get(name), vars, max);
  }
  const serial = raw.get('serial-number');
  if (serial !== undefined) subject.serialNumber = parseScalar(serial, vars, 64);
  return subject;
}

/** The default CN, left out when it would not fit the 64-character limit (long pod names). */
function defaultCn(cn: string): string | undefined {
  return cn.length <= MAX_COMMON_NAME ? cn : undefined;
}

function parseScalar(attr: RawAttribute, vars: ExpansionValues, max: number): string {
  if (attr.value === '') throw new InvalidArgumentError(attr.key, NOT_EMPTY);
  const value = expandVariables(attr.key, attr.value, vars);
  const reason = checkSubjectValue(value, max);
  if (reason !== undefined) throw new InvalidArgumentError(attr.key, reason);
  return value;
}

/** The comma-separated items of `attr` (none when it is absent); more than `max` is INVALID_ARGUMENT. */
function boundedList(attr: RawAttribute | undefined, max: number): string[] {
  if (attr === undefined) return [];
  const items = parseList(attr.key, attr.value);
  if (items.length > max) {
    throw new InvalidArgumentError(attr.key, `must list at most ${max} entries, got ${items.length}`);
  }
  return items;
}

function parseSubjectList(attr: RawAttribute | undefined, vars: ExpansionValues, max: number): string[] {
  if (attr === undefined) return [];
  return boundedList(attr, MAX_SUBJECT_ENTRIES).map((item) => {
    const value = expandVariables(attr.key, item, vars);
    const reason = checkSubjectValue(value, max);
    if (reason !== undefined) throw new InvalidArgumentError(attr.key, reason);
    return value;
  });
}

function parseCountries(attr: RawAttribute | undefined): string[] {
  if (attr === undefined) return [];
  return parseList(attr.key, attr.value).map((c) => {
    if (!/^[A-Za-z]{2}$/.test(c)) {
      throw new InvalidArgumentError(
        attr.key,
        `${quoteValue(c)} is not a two-letter country code like DE or US`,
      );
    }
    return c.toUpperCase();
  });
}

interface Checked {
  value: string;
  /** Identity for duplicate detection; defaults to value. */
  compareAs?: string;
  reason: string | undefined;
}

function parseSans(
  attr: RawAttribute | undefined,
  vars: ExpansionValues | undefined,
  check: (item: string) => Checked,
): string[] {
  if (attr === undefined) return [];
  const seen = new Set<string>();
  return boundedList(attr, MAX_SANS_PER_ATTRIBUTE).map((item) => {
    const expanded = vars === undefined ? item : expandVariables(attr.key, item, vars);
    const { value, compareAs = value, reason } = check(expanded);
    if (reason !== undefined) throw new InvalidArgumentError(attr.key, reason);
    if (seen.has(compareAs))
      throw new InvalidArgumentError(attr.key, `lists ${quoteValue(value)} more than once`);
    seen.add(compareAs);
    return value;
  });
}

function normaliseDnsName(name: string): Checked {
  const value = name.toLowerCase();
  return { value, reason: checkDnsName(value) };
}

function normaliseIp(ip: string): Checked {
  const canonical = canonicalIp(ip);
  return canonical === undefined
    ? { value: ip, reason: `${quoteValue(ip)} is not an IPv4 or IPv6 address` }
    : { value: ip.toLowerCase(), compareAs: canonical, reason: undefined };
}
