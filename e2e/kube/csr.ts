/** CSRs for the tests, made by the openssl CLI (a real, independent implementation). */
import { opensslOk } from '../support/openssl.js';

export interface CsrNames {
  commonName?: string;
  dns?: string[];
  uris?: string[];
  ips?: string[];
}

/** A PEM CSR for a fresh ECDSA P-256 key with the given subject CN and SANs. */
export async function makeCsr(names: CsrNames): Promise<string> {
  const sans = [
    ...(names.dns ?? []).map((n) => `DNS:${n}`),
    ...(names.uris ?? []).map((n) => `URI:${n}`),
    ...(names.ips ?? []).map((n) => `IP:${n}`),
  ];
  return opensslOk([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    '/dev/null',
    '-subj',
    names.commonName ? `/CN=${names.commonName}` : '/O=csi-cert-driver e2e',
    ...(sans.length > 0 ? ['-addext', `subjectAltName=${sans.join(',')}`] : []),
  ]);
}
