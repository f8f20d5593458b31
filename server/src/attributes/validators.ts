/**
 * Platform-independent value checks. Each `check*` returns a reason a user understands when the
 * value is invalid, or undefined when it is fine; `parse*` helpers throw InvalidArgumentError.
 */
import { isIP } from 'node:net';
import { MAX_GROUP_ID } from '@csi-cert-driver/platform-contract';
import { InvalidArgumentError, quoteValue } from '../common/errors.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Kubernetes DNS-1123 label (namespace names): lower-case alphanumerics and '-', at most 63. */
export function checkDns1123Label(value: string): string | undefined {
  if (value.length > 63) return `must be at most 63 characters, got ${value.length}`;
  if (!DNS1123_LABEL.test(value)) {
    return `must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit), got ${quoteValue(value)}`;
  }
  return undefined;
}

/** Kubernetes DNS-1123 subdomain (most object names): DNS-1123 labels joined by '.', at most 253. */
export function checkDns1123Subdomain(value: string): string | undefined {
  if (value.length > 253) return `must be at most 253 characters, got ${value.length}`;
  if (!DNS1123_SUBDOMAIN.test(value)) {
    return `must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit), got ${quoteValue(value)}`;
  }
  return undefined;
}

/** A DNS SAN, already lower-cased: RFC 1123 labels of at most 63, an optional leading `*.`. */
export function checkDnsName(name: string): string | undefined {
  if (name.length > 253) return `DNS name ${quoteValue(name)} is longer than 253 characters`;
  const labels = name.startsWith('*.') ? name.slice(2).split('.') : name.split('.');
  for (const label of labels) {
    if (label.length > 63) return `DNS name ${quoteValue(name)} has a label longer than 63 characters`;
    if (!DNS1123_LABEL.test(label)) {
      return `${quoteValue(name)} is not a valid DNS name (labels of letters, digits and '-', separated by '.'; only a leading '*.' wildcard)`;
    }
  }
  return undefined;
}

/** An IPv4 or IPv6 address without zone; returns its canonical form for comparisons. */
export function canonicalIp(ip: string): string | undefined {
  if (ip.includes('%')) return undefined;
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family === 6) return new URL(`http://[${ip}]`).hostname.slice(1, -1);
  return undefined;
}

/** An absolute URI with a scheme, without spaces or control characters. */
export function checkUri(uri: string): string | undefined {
  const bad = `${quoteValue(uri)} is not an absolute URI with a scheme, like spiffe://cluster.local/ns/default/sa/app`;
  if (/\s/.test(uri) || CONTROL.test(uri) || uri.length > 2048) return bad;
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:./.test(uri)) return bad;
  try {
    new URL(uri);
  } catch {
    return bad;
  }
  return undefined;
}

const EMAIL_LOCAL = /^[A-Za-z0-9!#%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#%&'*+/=?^_`{|}~-]+)*$/;

/** A simple `local@domain` address; the domain must be a DNS name without wildcard. */
export function checkEmail(email: string): string | undefined {
  const bad = `${quoteValue(email)} is not an email address like name@example.com`;
  const at = email.lastIndexOf('@');
  if (at <= 0 || email.length > 254) return bad;
  const local = email.slice(0, at);
  const domain = email.slice(at + 1).toLowerCase();
  if (local.length > 64 || !EMAIL_LOCAL.test(local)) return bad;
  if (domain.startsWith('*.') || checkDnsName(domain) !== undefined) return bad;
  return undefined;
}

/** A printable subject string of at most `max` characters. */
export function checkSubjectValue(value: string, max: number): string | undefined {
  if (CONTROL.test(value)) return `${quoteValue(value)} contains a control character`;
  if (value.length > max) return `${quoteValue(value)} is longer than ${max} characters`;
  return undefined;
}

/**
 * Rules for a file name in the volume that hold on every platform: one path segment, not `.` or
 * `..`, no NUL, at most 255 bytes, and not starting with `..` (reserved for the atomic writer).
 */
export function checkFileName(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.includes('/') || name.includes('\\')) {
    return `must be a plain file name without '/' or '\\', got ${quoteValue(name)}`;
  }
  if (name.includes('\0')) return 'must not contain a NUL character';
  if (name === '.' || name.startsWith('..')) {
    return `must not be '.' or start with '..' (reserved for the volume's atomic writer), got ${quoteValue(name)}`;
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > 255) return `must be at most 255 bytes, got ${bytes}`;
  return undefined;
}

/** Reason for an attribute given with an empty value where that means nothing. */
export const NOT_EMPTY = 'must not be empty; remove the attribute to use the default';

/** Strict boolean: exactly "true" or "false". */
export function parseBool(field: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError(field, `must be "true" or "false", got ${quoteValue(value)}`);
}

/** A group ID: decimal digits, 0 to `MAX_GROUP_ID` (2^31-1, the bound the platform adapters apply too). */
export function parseGroupId(field: string, value: string): number {
  const max = MAX_GROUP_ID;
  if (!/^\d{1,10}$/.test(value) || Number(value) > max) {
    throw new InvalidArgumentError(
      field,
      `must be an integer group ID from 0 to ${max}, got ${quoteValue(value)}`,
    );
  }
  return Number(value);
}

/** Splits a comma-separated list, trimming entries; rejects empty entries. */
export function parseList(field: string, value: string): string[] {
  if (value.trim() === '') throw new InvalidArgumentError(field, NOT_EMPTY);
  const items = value.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new InvalidArgumentError(field, `contains an empty entry in ${quoteValue(value)}`);
  }
  return items;
}
