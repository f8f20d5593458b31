/**
 * DNS-rebinding guard of the node's HTTP servers (REST API, dashboard, /metrics). A browser on the
 * node that loads a page of an attacker's name which later resolves to 127.0.0.1 sends that name as
 * the Host header, so a request is answered only when its Host is one nobody else can own: an IP
 * literal, `localhost` or a name under `.localhost` (RFC 6761), or a name the operator configured
 * (API_ALLOWED_HOSTS). Anything else gets 421 Misdirected Request. A request without a Host header
 * (HTTP/1.0 tools) cannot come from a browser and passes.
 */
import { isIP } from 'node:net';

/** The host part of a Host header, lower-cased, without port or IPv6 brackets; '' when absent. */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const i = h.lastIndexOf(':');
  return (i >= 0 ? h.slice(0, i) : h).replace(/\.$/, '');
}

/** Whether a request with this Host header may be answered (see the module comment). */
export function hostAllowed(header: string | undefined, allowed: readonly string[]): boolean {
  if (header === undefined) return true;
  const host = hostOf(header);
  if (host === '') return false;
  if (isIP(host) !== 0) return true;
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return allowed.includes(host);
}

export const MISDIRECTED = {
  statusCode: 421,
  error: 'Misdirected Request',
  message:
    'this Host is not served here: use an IP address or localhost, or add the name to API_ALLOWED_HOSTS',
};
