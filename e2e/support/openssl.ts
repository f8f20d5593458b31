/**
 * The OpenSSL CLI as an independent judge of what the driver wrote: every helper runs `openssl` with
 * an argument array (execFile, never a shell) on files in a volume and parses its text output.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const OPENSSL = 'openssl';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `openssl ...args`; a non-zero exit is returned, not thrown. */
export function openssl(args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      OPENSSL,
      args,
      { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `openssl ...args` and returns stdout; throws with stderr on a non-zero exit. */
export async function opensslOk(args: string[]): Promise<string> {
  const r = await openssl(args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/**
 * `openssl req` with a fresh unencrypted ECDSA P-256 key written to `keyFile` (`/dev/null` to drop
 * it), subject `subject` and `-addext` for each of `extensions`: a CSR, or with `x509` a self-signed
 * certificate, written to `out` or, without it, returned as PEM.
 */
export function p256Request(o: {
  keyFile: string;
  subject: string;
  extensions?: readonly string[];
  x509?: { days: number };
  out?: string;
}): Promise<string> {
  return opensslOk([
    'req',
    ...(o.x509 ? ['-x509', '-days', String(o.x509.days)] : ['-new']),
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    o.keyFile,
    '-subj',
    o.subject,
    ...(o.extensions ?? []).flatMap((ext) => ['-addext', ext]),
    ...(o.out ? ['-out', o.out] : []),
  ]);
}

/**
 * `openssl x509 -req`: signs the CSR file `csr` with the CA at `ca`, copying every extension of the
 * request, for `days` days; `extra` goes before `-out` (a fixed serial, a forced public key).
 */
export async function signCsrFile(o: {
  csr: string;
  ca: { cert: string; key: string };
  days: number;
  out: string;
  extra?: readonly string[];
}): Promise<void> {
  await opensslOk([
    'x509',
    '-req',
    '-in',
    o.csr,
    '-CA',
    o.ca.cert,
    '-CAkey',
    o.ca.key,
    '-days',
    String(o.days),
    '-copy_extensions',
    'copyall',
    ...(o.extra ?? []),
    '-out',
    o.out,
  ]);
}

/** Writes a self-signed ECDSA P-256 CA (10 years, CA:TRUE, keyCertSign) to `certFile`/`keyFile`. */
export async function makeCa(
  certFile: string,
  keyFile: string,
  commonName = 'csi-cert-driver e2e CA',
): Promise<void> {
  await p256Request({
    keyFile,
    subject: `/CN=${commonName}`,
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'],
    x509: { days: 3650 },
    out: certFile,
  });
}

/**
 * `openssl verify -x509_strict -CAfile ca cert` (with `-purpose` when given). `ok` only when OpenSSL
 * exits 0 and prints `<cert>: OK`.
 */
export async function verifyChain(
  caFile: string,
  certFile: string,
  purpose?: 'sslserver' | 'sslclient',
): Promise<{ ok: boolean; output: string }> {
  const args = [
    'verify',
    '-x509_strict',
    '-CAfile',
    caFile,
    ...(purpose ? ['-purpose', purpose] : []),
    certFile,
  ];
  const r = await openssl(args);
  const output = (r.stdout + r.stderr).trim();
  return { ok: r.code === 0 && r.stdout.trim() === `${certFile}: OK`, output };
}

/** The subject as attribute short name → values (e.g. `{ CN: ['a'], O: ['x', 'y'] }`), values sorted. */
export async function subjectOf(certFile: string): Promise<Record<string, string[]>> {
  const out = await opensslOk([
    'x509',
    '-in',
    certFile,
    '-noout',
    '-subject',
    '-nameopt',
    'sep_multiline,sname,utf8',
  ]);
  const subject: Record<string, string[]> = {};
  for (const line of out.split('\n').slice(1)) {
    const m = /^ {4}([^=]+)=(.*)$/.exec(line);
    if (!m) continue;
    (subject[m[1]!] ??= []).push(m[2]!);
  }
  for (const values of Object.values(subject)) values.sort();
  return subject;
}

export interface Sans {
  dns: string[];
  ip: string[];
  uri: string[];
  email: string[];
}

/** Canonical text of an IP address (IPv6 compressed, lower case), so OpenSSL's spelling compares equal. */
export function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** The subjectAltName entries by type, each list sorted; IPs canonical. */
export async function sansOf(certFile: string): Promise<Sans> {
  const out = await opensslOk(['x509', '-in', certFile, '-noout', '-ext', 'subjectAltName']);
  const sans: Sans = { dns: [], ip: [], uri: [], email: [] };
  const body = out.split('\n').slice(1).join(' ').trim();
  if (body === '') return sans;
  for (const entry of body.split(', ')) {
    const [type, ...rest] = entry.trim().split(':');
    const value = rest.join(':');
    if (type === 'DNS') sans.dns.push(value);
    else if (type === 'IP Address') sans.ip.push(canonicalIp(value));
    else if (type === 'URI') sans.uri.push(value);
    else if (type === 'email') sans.email.push(value);
    else throw new Error(`unexpected subjectAltName entry '${entry}'`);
  }
  for (const list of Object.values(sans) as string[][]) list.sort();
  return sans;
}

/** notBefore and notAfter as OpenSSL reads them. */
export async function validityOf(certFile: string): Promise<{ notBefore: Date; notAfter: Date }> {
  const out = await opensslOk(['x509', '-in', certFile, '-noout', '-dates', '-dateopt', 'iso_8601']);
  const field = (name: string): Date => {
    const m = new RegExp(`^${name}=(\\S+) (\\S+)$`, 'm').exec(out);
    if (!m) throw new Error(`no ${name} in: ${out}`);
    return new Date(`${m[1]}T${m[2]}`);
  };
  return { notBefore: field('notBefore'), notAfter: field('notAfter') };
}

/** The serial number as lower-case hex without leading zeros. */
export async function serialOf(certFile: string): Promise<string> {
  const out = await opensslOk(['x509', '-in', certFile, '-noout', '-serial']);
  return normaliseSerial(out.trim().replace(/^serial=/, ''));
}

export function normaliseSerial(hex: string): string {
  return hex.toLowerCase().replace(/^0+(?=.)/, '');
}

export interface Usages {
  /** OpenSSL's names (`Digital Signature`, ...), sorted; empty when the extension is absent. */
  keyUsage: string[];
  keyUsageCritical: boolean;
  extKeyUsage: string[];
  /** From basicConstraints; undefined when the extension is absent. */
  isCA: boolean | undefined;
}

function extensionBlock(text: string, header: string): { critical: boolean; values: string[] } | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(header));
  if (i < 0) return undefined;
  const values = (lines[i + 1] ?? '')
    .trim()
    .split(', ')
    .filter((v) => v !== '')
    .sort();
  return { critical: lines[i]!.includes('critical'), values };
}

export async function usagesOf(certFile: string): Promise<Usages> {
  const out = await opensslOk([
    'x509',
    '-in',
    certFile,
    '-noout',
    '-ext',
    'keyUsage,extendedKeyUsage,basicConstraints',
  ]);
  const ku = extensionBlock(out, 'X509v3 Key Usage');
  const eku = extensionBlock(out, 'X509v3 Extended Key Usage');
  const bc = extensionBlock(out, 'X509v3 Basic Constraints');
  return {
    keyUsage: ku?.values ?? [],
    keyUsageCritical: ku?.critical ?? false,
    extKeyUsage: eku?.values ?? [],
    isCA: bc === undefined ? undefined : bc.values.includes('CA:TRUE'),
  };
}

/** cert-manager usage spelling → the name OpenSSL prints. */
export const OPENSSL_USAGE_NAMES: Record<string, { ku?: string; eku?: string }> = {
  'digital signature': { ku: 'Digital Signature' },
  'content commitment': { ku: 'Non Repudiation' },
  'key encipherment': { ku: 'Key Encipherment' },
  'data encipherment': { ku: 'Data Encipherment' },
  'key agreement': { ku: 'Key Agreement' },
  'cert sign': { ku: 'Certificate Sign' },
  'crl sign': { ku: 'CRL Sign' },
  'server auth': { eku: 'TLS Web Server Authentication' },
  'client auth': { eku: 'TLS Web Client Authentication' },
  'code signing': { eku: 'Code Signing' },
  'email protection': { eku: 'E-mail Protection' },
  timestamping: { eku: 'Time Stamping' },
  'ocsp signing': { eku: 'OCSP Signing' },
};

/** The key usage and extended key usage names OpenSSL should print for cert-manager usages. */
export function expectedUsages(usages: string[]): { keyUsage: string[]; extKeyUsage: string[] } {
  const keyUsage: string[] = [];
  const extKeyUsage: string[] = [];
  for (const u of usages) {
    const names = OPENSSL_USAGE_NAMES[u];
    if (!names) throw new Error(`no OpenSSL name known for usage '${u}'`);
    if (names.ku) keyUsage.push(names.ku);
    if (names.eku) extKeyUsage.push(names.eku);
  }
  return { keyUsage: keyUsage.sort(), extKeyUsage: extKeyUsage.sort() };
}

export interface KeyInfo {
  algorithm: 'RSA' | 'EC' | 'ED25519';
  bits: number;
  /** NIST curve name for EC keys (`P-256`). */
  curve?: string;
}

function parseKeyText(text: string, publicKeyLine: RegExp): KeyInfo {
  const bits = Number(publicKeyLine.exec(text)?.[1] ?? NaN);
  const curve = /NIST CURVE: (\S+)/.exec(text)?.[1];
  if (/ED25519/.test(text)) return { algorithm: 'ED25519', bits: 256 };
  if (curve !== undefined) return { algorithm: 'EC', bits, curve };
  if (/rsaEncryption|modulus:/i.test(text)) return { algorithm: 'RSA', bits };
  throw new Error(`unrecognised key text:\n${text.slice(0, 400)}`);
}

/** The certificate's public key type and size. */
export async function certKeyInfo(certFile: string): Promise<KeyInfo> {
  const out = await opensslOk(['x509', '-in', certFile, '-noout', '-text']);
  const keySection = out.slice(out.indexOf('Subject Public Key Info:'), out.indexOf('X509v3 extensions:'));
  return parseKeyText(keySection, /Public-Key: \((\d+) bit/);
}

/** The private key's type and size, as `openssl pkey` reads the file. */
export async function privateKeyInfo(keyFile: string): Promise<KeyInfo> {
  const out = await opensslOk(['pkey', '-in', keyFile, '-noout', '-text']);
  return parseKeyText(out, /Private-Key: \((\d+) bit/);
}

/** The public key of a certificate and of a private key, both as SPKI PEM. */
export async function publicKeys(
  keyFile: string,
  certFile: string,
): Promise<{ fromKey: string; fromCert: string }> {
  const [fromKey, fromCert] = await Promise.all([
    opensslOk(['pkey', '-in', keyFile, '-pubout']),
    opensslOk(['x509', '-in', certFile, '-noout', '-pubkey']),
  ]);
  return { fromKey: fromKey.trim(), fromCert: fromCert.trim() };
}

/** SHA-256 fingerprint of a certificate file's first certificate. */
export async function fingerprintOf(certFile: string): Promise<string> {
  const out = await opensslOk(['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  return out.trim().replace(/^.*Fingerprint=/, '');
}

/** The labels of the PEM blocks in a file, in order (`['CERTIFICATE']`, `['EC PRIVATE KEY']`). */
export function pemLabels(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^-----BEGIN ([A-Z0-9 ]+)-----$/gm)].map((m) => m[1]!);
}
