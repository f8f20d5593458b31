/**
 * Signs a node's CSR with the issuer's CA after the signing policy accepted it. Subject and SANs come
 * from the CSR; key usages, CA-ness and validity come from the request and the policy, never from
 * extensions the CSR asks for. Pure domain logic: the gRPC service authenticates the caller first.
 */
import { randomBytes } from 'node:crypto';
import { startupSnapshot } from 'node:v8';
import type { PodInfo } from '../attributes/certificate-spec.js';
import type { ParsedCsr } from '../pki/csr.js';
import { FailedPreconditionError } from '../common/errors.js';
import { truncateToSeconds } from '../pki/certificate-builder.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  keyIdentifierOf,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from '../pki/extensions.js';
import { toPem } from '../pki/pem.js';
import { KeyUsageFlags, usageExtensions } from '../pki/usages.js';
import type { CertificateAuthority } from './certificate-authority.js';
import { checkRequest, type SigningPolicy } from './signing-policy.js';

/** Back-dating of notBefore, so that a node whose clock is slightly behind accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 60_000;

export interface SignRequest {
  csrPem: string;
  /** `csrPem` already parsed (`parseCsr`), so that a request is parsed once; parsed here when absent. */
  csr?: ParsedCsr | undefined;
  durationSeconds: number;
  isCA: boolean;
  /** cert-manager spellings; empty means cert-manager's default ("digital signature", "key encipherment"). */
  usages: readonly string[];
  pod: PodInfo;
  nodeId: string;
  volumeId: string;
}

export interface SignedCertificate {
  certificatePem: string;
  /** Intermediates between the leaf and the root; empty when the CA is a root. */
  chainPem: string;
  caBundlePem: string;
  /** Lower-case hex, no separators: 16 bytes, positive. */
  serialHex: string;
  notBefore: Date;
  notAfter: Date;
  /** What the issuer changed from the request (clamped duration, capped at the CA's expiry). */
  notices: string[];
}

const SERIAL_BYTES = 16;
/** Random bytes drawn 256 serials at a time (one `randomBytes` call costs as much as 16 bytes of it). */
let serialPool = Buffer.alloc(0);
let serialOffset = 0;
// A startup snapshot (ADR 26) must never carry serial bytes into every process started from it.
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.addSerializeCallback(() => {
    serialPool = Buffer.alloc(0);
    serialOffset = 0;
  });
}

/**
 * 16 random bytes (CSPRNG) with the top bit cleared and a non-zero first byte: a positive serial that
 * stays 16 bytes in DER. Every serial comes from bytes no other serial used.
 */
export function randomSerial(): Buffer {
  if (serialOffset + SERIAL_BYTES > serialPool.length) {
    serialPool = randomBytes(256 * SERIAL_BYTES);
    serialOffset = 0;
  }
  const serial = Buffer.from(serialPool.subarray(serialOffset, serialOffset + SERIAL_BYTES));
  serialOffset += SERIAL_BYTES;
  serial[0] = (serial[0] ?? 0) & 0x7f || 0x01;
  return serial;
}

/**
 * Checks `req` against `policy` and signs it. Throws InvalidArgumentError (bad CSR or field),
 * PolicyError, PermissionDeniedError (CA not allowed), FailedPreconditionError (the CA has expired).
 */
export async function signCsr(
  ca: CertificateAuthority,
  policy: SigningPolicy,
  req: SignRequest,
  now = new Date(),
): Promise<SignedCertificate> {
  const checked = checkRequest(policy, req);
  const notices = [...checked.notices];
  const notBefore = truncateToSeconds(new Date(now.getTime() - CLOCK_SKEW_MS));
  let notAfter = truncateToSeconds(new Date(now.getTime() + checked.durationSeconds * 1000));
  if (notAfter > ca.notAfter) {
    notAfter = truncateToSeconds(ca.notAfter);
    notices.push(`notAfter capped at the CA certificate's expiry ${ca.notAfter.toISOString()}`);
  }
  if (notAfter <= now)
    throw new FailedPreconditionError('the CA certificate has expired; the issuer cannot sign');

  const keyUsage = checked.usages.keyUsage | (checked.isCA ? KeyUsageFlags.keyCertSign : 0);
  const san = subjectAltNameExtension(checked.sans, checked.csr.subjectIsEmpty);
  const serial = randomSerial();
  const certDer = ca.signCertificate({
    serial,
    subjectDer: checked.csr.subjectDer,
    spkiDer: checked.csr.spkiDer,
    notBefore,
    notAfter,
    extensions: [
      basicConstraintsExtension(checked.isCA),
      ...usageExtensions({ ...checked.usages, keyUsage }),
      subjectKeyIdentifierExtension(keyIdentifierOf(checked.csr.spkiDer)),
      authorityKeyIdentifierExtension(ca.keyIdentifier),
      ...(san ? [san] : []),
    ],
  });
  return {
    certificatePem: toPem(certDer, 'CERTIFICATE'),
    chainPem: ca.chainPem,
    caBundlePem: ca.caBundlePem,
    serialHex: serial.toString('hex'),
    notBefore,
    notAfter,
    notices,
  };
}
