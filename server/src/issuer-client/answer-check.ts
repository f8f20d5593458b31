/**
 * The node's check of an issuer's answer before anything is written: the certificate carries the
 * CSR's public key, chains to trust anchors the node already holds, and has the subject, SANs,
 * usages, CA flag and validity that were asked for. A mismatch is an IssuerAnswerError naming the
 * property (never a key, token or certificate body); it maps to INTERNAL at the gRPC edge.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { InternalError } from '../common/errors.js';
import { safeText } from '../common/safe-text.js';
import { certificateParts } from '../pki/certificate-builder.js';
import { certificateExtensions, type CertificateExtensions } from '../pki/certificate-extensions.js';
import { csrContents } from '../pki/csr.js';
import { EXTENSION_OIDS } from '../pki/extensions.js';
import { decodeGeneralNames, type GeneralName } from '../pki/names.js';
import { certificatePems, firstPemBlock } from '../pki/pem.js';
import { DEFAULT_USAGES, KeyUsageFlags, resolveUsages } from '../pki/usages.js';
import type { SignRequest, SignedCertificate } from './issuer.port.js';

/** How far an issuer's clock may run ahead of the node's (notBefore) and how much longer than asked a certificate may live. */
export const ANSWER_CLOCK_SKEW_MS = 5 * 60_000;

/** Longest chain from the leaf to an anchor (leaf and intermediates). */
const MAX_CHAIN = 8;

/** What in an issuer's answer did not match; the message names it and is safe to show to kubelet. */
export type AnswerMismatch =
  'unparseable' | 'public key' | 'chain' | 'subject' | 'subjectAltNames' | 'usages' | 'CA flag' | 'validity';

/** The issuer answered with a certificate the node does not accept; nothing was written. */
export class IssuerAnswerError extends InternalError {
  constructor(
    readonly mismatch: AnswerMismatch,
    detail: string,
  ) {
    super(`issuer answer rejected (${mismatch}): ${detail}; nothing was written`);
  }
}

export interface AnswerCheckInput {
  req: Pick<SignRequest, 'csrPem' | 'durationSeconds' | 'isCA' | 'usages'>;
  signed: Pick<SignedCertificate, 'certificatePem' | 'chainPem'>;
  /**
   * PEM of the certificates the leaf must chain to (the node's trust bundle); undefined skips the
   * chain check (cert-manager mode without a bundle of its own, see docs/security.md).
   */
  anchorsPem: string | undefined;
  now?: Date;
}

/** Throws IssuerAnswerError unless the answer is exactly what `req` asked for and chains to `anchorsPem`. */
export function checkIssuerAnswer(input: AnswerCheckInput): void {
  const { req, signed } = input;
  const now = (input.now ?? new Date()).getTime();
  let leafDer: Buffer<ArrayBuffer>;
  let node: X509Certificate;
  let parts: ReturnType<typeof certificateParts>;
  let exts: CertificateExtensions;
  try {
    leafDer = firstPemBlock(signed.certificatePem, 'CERTIFICATE', 'certificate');
    node = new X509Certificate(leafDer);
    parts = certificateParts(leafDer);
    exts = certificateExtensions(leafDer);
  } catch {
    throw new IssuerAnswerError('unparseable', 'the certificate is not a valid X.509 certificate');
  }
  const csr = csrContents(req.csrPem);

  if (!parts.spkiDer.equals(csr.spkiDer))
    throw new IssuerAnswerError('public key', "the certificate's public key is not the volume's key");

  if (!parts.subjectDer.equals(csr.subjectDer))
    throw new IssuerAnswerError(
      'subject',
      `the subject "${safeText(node.subject, 200)}" is not the requested one`,
    );

  const want = sanSet(
    csr.extensions
      .filter((e) => e.oid === EXTENSION_OIDS.subjectAltName)
      .flatMap((e) => requestedNames(e.value)),
  );
  const got = sanSet(exts.sans);
  const extra = [...got].filter((n) => !want.has(n));
  const missing = [...want].filter((n) => !got.has(n));
  if (extra.length > 0 || missing.length > 0)
    throw new IssuerAnswerError(
      'subjectAltNames',
      [
        extra.length > 0 ? `not requested: ${quoteList(extra)}` : '',
        missing.length > 0 ? `missing: ${quoteList(missing)}` : '',
      ]
        .filter(Boolean)
        .join('; '),
    );

  if (exts.isCA !== req.isCA)
    throw new IssuerAnswerError(
      'CA flag',
      exts.isCA
        ? 'the certificate is a CA, which was not asked for'
        : 'the certificate is not a CA, which was asked for',
    );

  checkUsages(req, exts);
  checkValidity(req, node, now);
  if (input.anchorsPem !== undefined) checkChain(node, signed.chainPem, input.anchorsPem, now);
}

function requestedNames(value: Buffer): GeneralName[] {
  try {
    return decodeGeneralNames(value);
  } catch {
    throw new IssuerAnswerError('subjectAltNames', 'the requested subjectAltName extension cannot be parsed');
  }
}

function sanSet(names: GeneralName[]): Set<string> {
  return new Set(names.map((n) => `${n.type}:${n.value}`));
}

/** At most 5 names, each at most 100 characters. */
function quoteList(names: string[]): string {
  const shown = names.slice(0, 5).map((n) => safeText(n, 100));
  return shown.join(', ') + (names.length > 5 ? ` and ${names.length - 5} more` : '');
}

function checkUsages(req: AnswerCheckInput['req'], exts: CertificateExtensions): void {
  const want = resolveUsages(req.usages.length > 0 ? req.usages : DEFAULT_USAGES);
  const wantBits = want.keyUsage | (req.isCA ? KeyUsageFlags.keyCertSign : 0);
  const gotBits = exts.keyUsage;
  const gotEkus = exts.extendedKeyUsages;
  const extraEkus = gotEkus.filter((o) => !want.extendedKeyUsages.includes(o));
  const missingEkus = want.extendedKeyUsages.filter((o) => !gotEkus.includes(o));
  if (gotBits !== wantBits || extraEkus.length > 0 || missingEkus.length > 0) {
    const parts: string[] = [];
    if (gotBits !== wantBits)
      parts.push(`keyUsage bits 0x${gotBits.toString(16)}, asked 0x${wantBits.toString(16)}`);
    if (extraEkus.length > 0) parts.push(`extended key usages not requested: ${quoteList(extraEkus)}`);
    if (missingEkus.length > 0) parts.push(`extended key usages missing: ${quoteList(missingEkus)}`);
    throw new IssuerAnswerError('usages', parts.join('; '));
  }
}

function checkValidity(req: AnswerCheckInput['req'], cert: X509Certificate, now: number): void {
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!(notAfter > now))
    throw new IssuerAnswerError('validity', `the certificate expired at ${new Date(notAfter).toISOString()}`);
  if (notBefore > now + ANSWER_CLOCK_SKEW_MS)
    throw new IssuerAnswerError(
      'validity',
      `the certificate is not valid before ${new Date(notBefore).toISOString()}`,
    );
  const latest = now + req.durationSeconds * 1000 + ANSWER_CLOCK_SKEW_MS;
  if (notAfter > latest)
    throw new IssuerAnswerError(
      'validity',
      `notAfter ${new Date(notAfter).toISOString()} is later than the requested ${req.durationSeconds}s allow`,
    );
}

interface Anchor {
  cert: X509Certificate;
  key: KeyObject;
}

/** Parsed anchors by bundle text: a bundle rarely changes, publishes are frequent. */
let anchorCache: { pem: string; anchors: Anchor[] } | undefined;

function anchorsOf(pem: string): Anchor[] {
  if (anchorCache?.pem === pem) return anchorCache.anchors;
  const anchors: Anchor[] = [];
  let blocks: string[] = [];
  try {
    blocks = certificatePems(pem);
  } catch {
    // No certificate: nothing anchors.
  }
  for (const block of blocks) {
    try {
      const cert = new X509Certificate(block);
      if (cert.ca) anchors.push({ cert, key: cert.publicKey });
    } catch {
      // An unparseable anchor anchors nothing.
    }
  }
  anchorCache = { pem, anchors };
  return anchors;
}

/** Whether `issuer` (a CA) issued and signed `cert`. */
function signedBy(
  cert: X509Certificate,
  issuer: X509Certificate,
  key: KeyObject = issuer.publicKey,
): boolean {
  try {
    return issuer.ca && cert.checkIssued(issuer) && cert.verify(key);
  } catch {
    return false;
  }
}

function checkChain(leaf: X509Certificate, chainPem: string, anchorsPem: string, now: number): void {
  const anchors = anchorsOf(anchorsPem);
  if (anchors.length === 0) throw new IssuerAnswerError('chain', 'the node holds no trust anchor');
  let intermediates: X509Certificate[];
  try {
    intermediates =
      chainPem.trim() === '' ? [] : certificatePems(chainPem).map((p) => new X509Certificate(p));
  } catch {
    throw new IssuerAnswerError('unparseable', 'the chain holds an invalid certificate');
  }
  let current = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    if (anchors.some((a) => signedBy(current, a.cert, a.key))) return;
    const next = intermediates.find(
      (c) =>
        signedBy(current, c) &&
        Date.parse(c.validTo) > now &&
        Date.parse(c.validFrom) <= now + ANSWER_CLOCK_SKEW_MS,
    );
    if (next === undefined) break;
    current = next;
  }
  throw new IssuerAnswerError(
    'chain',
    `the certificate (issuer "${safeText(leaf.issuer, 200)}") does not chain to the node's trust bundle`,
  );
}
