/** CSRs for the tests, made by the openssl CLI (a real, independent implementation). */
import { p256Request } from '../support/openssl.js';

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
  return p256Request({
    keyFile: '/dev/null',
    subject: names.commonName ? `/CN=${names.commonName}` : '/O=csi-cert-driver e2e',
    extensions: sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : [],
  });
}
