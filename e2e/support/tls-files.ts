/** Test PKI for the node ↔ issuer channel, made with the openssl CLI: a CA and leaves it signs. */
import { join } from 'node:path';
import { makeCa, p256Request, signCsrFile } from './openssl.js';

export interface LeafFiles {
  cert: string;
  key: string;
}

/** A P-256 leaf for `dnsName` signed by the CA at `caCert`/`caKey`, valid a day. */
export async function makeLeaf(
  dir: string,
  name: string,
  ca: { cert: string; key: string },
  dnsName: string,
  usage: 'serverAuth' | 'clientAuth',
): Promise<LeafFiles> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await p256Request({
    keyFile: key,
    subject: `/CN=${dnsName}`,
    extensions: [
      `subjectAltName=DNS:${dnsName}`,
      'keyUsage=critical,digitalSignature',
      `extendedKeyUsage=${usage}`,
    ],
    out: csr,
  });
  await signCsrFile({ csr, ca, days: 1, out: cert });
  return { cert, key };
}

/** A CA in `dir` as `<name>.crt`/`<name>.key`. */
export async function makeTransportCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const ca = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  await makeCa(ca.cert, ca.key, `${name} CA`);
  return ca;
}
