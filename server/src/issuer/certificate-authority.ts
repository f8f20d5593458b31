/**
 * The signing CA of the issuer role: a CA certificate (a bundle: the signing CA first, then the chain
 * up to the root) and its private key. Loading validates everything an operator can get wrong and
 * throws a ConfigError naming the setting to fix; a loaded CA is immutable (rotation loads a new one).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../common/errors.js';
import { certificateExtensions, keyUsageBits, rawExtensions } from '../pki/certificate-extensions.js';
import * as der from '../pki/der.js';
import { EXTENSION_OIDS, keyIdentifierOf } from '../pki/extensions.js';
import { decodePrivateKey, keySpecOf, type KeyShape } from '../pki/keys.js';
import { certificatePems, joinPem } from '../pki/pem.js';
import { buildCertificate, certificateParts, type CertificateTemplate } from '../pki/certificate-builder.js';
import { signatureSchemeOf, type SignatureScheme } from '../pki/signing-keys.js';
import { KeyUsageFlags } from '../pki/usages.js';
import { ConfigError } from './errors.js';

/**
 * What the issuer keeps of its signing CA certificate. Read with node:crypto's X509Certificate and
 * the project's DER reader, so the issuer never loads @peculiar/x509 (ADR 24).
 */
export class CaCertificate {
  /** One line, `C=DE, O=acme, CN=issuer`: for logs, errors and the rotation status. */
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The DER encoding. */
  readonly rawData: Buffer;

  constructor(private readonly cert: X509Certificate) {
    this.subject = oneLine(cert.subject);
    this.issuer = oneLine(cert.issuer);
    this.notBefore = cert.validFromDate;
    this.notAfter = cert.validToDate;
    this.rawData = cert.raw;
  }

  /** Parses one PEM or DER certificate; throws when it is not one. */
  static parse(pemOrDer: string | Buffer): CaCertificate {
    return new CaCertificate(new X509Certificate(pemOrDer));
  }

  /** The certificate as PEM. */
  toString(_format: 'pem'): string {
    return this.cert.toString();
  }

  /** Whether `parent`'s key signed this certificate and its name is this certificate's issuer. */
  isIssuedBy(parent: CaCertificate): boolean {
    if (this.issuer !== parent.subject) return false;
    try {
      return this.cert.verify(parent.cert.publicKey);
    } catch {
      return false; // a key type OpenSSL cannot check this signature with
    }
  }

  isSelfSigned(): boolean {
    return this.isIssuedBy(this);
  }

  matchesKey(key: KeyObject): boolean {
    return this.cert.checkPrivateKey(key);
  }

  /** basicConstraints cA (read as it is; OpenSSL's `ca` also weighs keyUsage). */
  get isCA(): boolean {
    return certificateExtensions(this.rawData).isCA;
  }

  /** The KeyUsage bits (KeyUsageFlags), or undefined without the extension. */
  keyUsage(): number | undefined {
    const ext = rawExtensions(this.rawData).find((e) => e.oid === EXTENSION_OIDS.keyUsage);
    return ext === undefined ? undefined : keyUsageBits(ext.value);
  }

  /** The SubjectKeyIdentifier, or undefined without the extension. */
  subjectKeyIdentifier(): Buffer | undefined {
    const ext = rawExtensions(this.rawData).find((e) => e.oid === EXTENSION_OIDS.subjectKeyIdentifier);
    return ext === undefined ? undefined : Buffer.from(der.readOnly(ext.value, der.TAG.OCTET_STRING).value);
  }
}

/** OpenSSL prints one RDN per line; @peculiar/x509 (and RFC 4514 readers) join them with ", ". */
function oneLine(name: string): string {
  return name.split('\n').join(', ');
}

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
    readonly certificate: CaCertificate,
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
      asConfig(certSetting, () => CaCertificate.parse(pem), `certificate ${i + 1} is not valid X.509`),
    );
    const key = asConfig(keySetting, () => decodePrivateKey(opts.keyPem, keySetting));
    const signer = certs[0] as CaCertificate;
    if (!signer.matchesKey(key)) {
      throw new ConfigError(
        keySetting,
        `does not match the public key of "${signer.subject}" in ${certSetting}`,
      );
    }
    checkIsCa(signer, certSetting);
    certs.forEach((c, i) => checkValidity(c, i, now, certSetting));
    checkOrder(certs, certSetting);
    const chain = certs.filter((c) => !c.isSelfSigned()).map((c) => c.toString('pem'));
    const parts = certificateParts(signer.rawData);
    const keyId = asConfig(
      certSetting,
      () => signer.subjectKeyIdentifier() ?? keyIdentifierOf(parts.spkiDer),
      'the subjectKeyIdentifier extension cannot be parsed',
    );
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

function checkIsCa(cert: CaCertificate, setting: string): void {
  if (!asConfig(setting, () => cert.isCA, 'the basicConstraints extension cannot be parsed')) {
    throw new ConfigError(
      setting,
      `"${cert.subject}" is not a CA certificate (basicConstraints cA is not true)`,
    );
  }
  const keyUsage = asConfig(setting, () => cert.keyUsage(), 'the keyUsage extension cannot be parsed');
  if (keyUsage !== undefined && (keyUsage & KeyUsageFlags.keyCertSign) === 0) {
    throw new ConfigError(
      setting,
      `"${cert.subject}" may not sign certificates (keyUsage lacks keyCertSign)`,
    );
  }
}

function checkValidity(cert: CaCertificate, index: number, now: Date, setting: string): void {
  const which = `certificate ${index + 1} ("${cert.subject}")`;
  if (now < cert.notBefore)
    throw new ConfigError(setting, `${which} is not valid before ${cert.notBefore.toISOString()}`);
  if (now > cert.notAfter)
    throw new ConfigError(setting, `${which} expired at ${cert.notAfter.toISOString()}`);
}

/** Each certificate of the bundle must be issued by the next one (leaf-to-root order). */
function checkOrder(certs: readonly CaCertificate[], setting: string): void {
  for (let i = 0; i + 1 < certs.length; i++) {
    const child = certs[i] as CaCertificate;
    const parent = certs[i + 1] as CaCertificate;
    if (!child.isIssuedBy(parent)) {
      throw new ConfigError(
        setting,
        `certificate ${i + 1} ("${child.subject}") is not issued by certificate ${i + 2} ("${parent.subject}"); order the bundle from the signing CA to the root`,
      );
    }
  }
}
