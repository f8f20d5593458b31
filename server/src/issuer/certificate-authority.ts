/**
 * The signing CA of the issuer role: a CA certificate (a bundle: the signing CA first, then the chain
 * up to the root) and its private key. Loading validates everything an operator can get wrong and
 * throws a ConfigError naming the setting to fix; a loaded CA is immutable (rotation loads a new one).
 */
import { X509Certificate as NodeX509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../common/errors.js';
import { keyIdentifierOf } from '../pki/extensions.js';
import { decodePrivateKey, keySpecOf, type KeyShape } from '../pki/keys.js';
import { certificatePems, joinPem } from '../pki/pem.js';
import { buildCertificate, certificateParts, type CertificateTemplate } from '../pki/certificate-builder.js';
import { signatureSchemeOf, type SignatureScheme } from '../pki/signing-keys.js';
import { x509, type X509Certificate } from '../pki/x509.js';
import { ConfigError } from './errors.js';

export interface LoadCertificateAuthorityOptions {
  certPem: string;
  keyPem: string;
  /** Setting names used in errors; default `CA_CERT_FILE` and `CA_KEY_FILE`. */
  certSetting?: string;
  keySetting?: string;
  now?: Date;
}

export class CertificateAuthority {
  private constructor(
    /** The signing CA certificate (first of the bundle). */
    readonly certificate: X509Certificate,
    /** PEM of every non-self-signed certificate of the bundle, signing CA first: a leaf's chain_pem. */
    readonly chainPem: string,
    /** PEM of the last certificate of the bundle (the root when present): what pods trust. */
    readonly caBundlePem: string,
    readonly keyShape: KeyShape,
    private readonly signingKey: KeyObject,
    readonly scheme: SignatureScheme,
    /** SubjectKeyIdentifier of the CA: every leaf's AuthorityKeyIdentifier. */
    readonly keyIdentifier: Buffer,
    /** The CA's subject exactly as encoded: every leaf's issuer. */
    readonly subjectDer: Buffer,
  ) {}

  get notAfter(): Date {
    return this.certificate.notAfter;
  }

  /** Signs a certificate issued by this CA (issuer name, signature scheme and key filled in); returns DER. */
  signCertificate(t: Omit<CertificateTemplate, 'issuerDer' | 'signingKey' | 'scheme'>): Buffer {
    return buildCertificate({
      ...t,
      issuerDer: this.subjectDer,
      signingKey: this.signingKey,
      scheme: this.scheme,
    });
  }

  /** Validates and loads a CA from PEM text. Throws ConfigError naming the certificate or key setting. */
  static async load(opts: LoadCertificateAuthorityOptions): Promise<CertificateAuthority> {
    const certSetting = opts.certSetting ?? 'CA_CERT_FILE';
    const keySetting = opts.keySetting ?? 'CA_KEY_FILE';
    const now = opts.now ?? new Date();
    const pems = asConfig(certSetting, () => certificatePems(opts.certPem, certSetting));
    if (pems.length === 0) throw new ConfigError(certSetting, 'contains no CERTIFICATE PEM block');
    const certs = pems.map((pem, i) =>
      asConfig(certSetting, () => new x509.X509Certificate(pem), `certificate ${i + 1} is not valid X.509`),
    );
    const key = asConfig(keySetting, () => decodePrivateKey(opts.keyPem, keySetting));
    const signer = certs[0] as X509Certificate;
    if (!new NodeX509Certificate(Buffer.from(signer.rawData)).checkPrivateKey(key)) {
      throw new ConfigError(
        keySetting,
        `does not match the public key of "${signer.subject}" in ${certSetting}`,
      );
    }
    checkIsCa(signer, certSetting);
    certs.forEach((c, i) => checkValidity(c, i, now, certSetting));
    await checkOrder(certs, certSetting);
    const selfSigned = await Promise.all(certs.map((c) => c.isSelfSigned()));
    const chain = certs.filter((_, i) => !selfSigned[i]).map((c) => c.toString('pem'));
    const parts = certificateParts(Buffer.from(signer.rawData));
    const ski = signer.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    const keyId = ski !== undefined ? Buffer.from(ski, 'hex') : keyIdentifierOf(parts.spkiDer);
    const shape = keySpecOf(key);
    return new CertificateAuthority(
      signer,
      joinPem(chain),
      joinPem([pems[pems.length - 1] ?? '']),
      shape,
      key,
      signatureSchemeOf(shape),
      keyId,
      parts.subjectDer,
    );
  }
}

/** Reads and loads the CA from `CA_CERT_FILE` / `CA_KEY_FILE` paths. */
export async function loadCertificateAuthorityFromFiles(
  certFile: string,
  keyFile: string,
  now = new Date(),
): Promise<CertificateAuthority> {
  const read = async (setting: string, file: string): Promise<string> => {
    try {
      return await readFile(file, 'utf8');
    } catch (e) {
      throw new ConfigError(setting, `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const [certPem, keyPem] = await Promise.all([read('CA_CERT_FILE', certFile), read('CA_KEY_FILE', keyFile)]);
  return CertificateAuthority.load({ certPem, keyPem, now });
}

function asConfig<T>(setting: string, fn: () => T, reason?: string): T {
  try {
    return fn();
  } catch (e) {
    if (reason === undefined && e instanceof InvalidArgumentError) throw new ConfigError(setting, e.reason);
    throw new ConfigError(setting, reason ?? 'cannot be parsed');
  }
}

function checkIsCa(cert: X509Certificate, setting: string): void {
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true) {
    throw new ConfigError(
      setting,
      `"${cert.subject}" is not a CA certificate (basicConstraints cA is not true)`,
    );
  }
  const keyUsage = cert.getExtension(x509.KeyUsagesExtension);
  if (keyUsage !== null && (keyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) {
    throw new ConfigError(
      setting,
      `"${cert.subject}" may not sign certificates (keyUsage lacks keyCertSign)`,
    );
  }
}

function checkValidity(cert: X509Certificate, index: number, now: Date, setting: string): void {
  const which = `certificate ${index + 1} ("${cert.subject}")`;
  if (now < cert.notBefore)
    throw new ConfigError(setting, `${which} is not valid before ${cert.notBefore.toISOString()}`);
  if (now > cert.notAfter)
    throw new ConfigError(setting, `${which} expired at ${cert.notAfter.toISOString()}`);
}

/** Each certificate of the bundle must be issued by the next one (leaf-to-root order). */
async function checkOrder(certs: readonly X509Certificate[], setting: string): Promise<void> {
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as X509Certificate;
    const parent = certs[i + 1] as X509Certificate;
    const signed =
      child.issuer === parent.subject &&
      (await child.verify({ publicKey: parent.publicKey, signatureOnly: true }).catch(() => false));
    if (!signed) {
      throw new ConfigError(
        setting,
        `certificate ${i + 1} ("${child.subject}") is not issued by certificate ${i + 2} ("${parent.subject}"); order the bundle from the signing CA to the root`,
      );
    }
  }
}
