/**
 * Test support: CA certificates with exactly the properties a test needs (key type and encoding,
 * validity, CA flags, a parent), and CSRs to sign. Built with the production certificate builder;
 * tests check the results with the openssl CLI. Not imported by production code.
 */
import type { KeyObject } from 'node:crypto';
import type { CertificateSpec, KeyEncoding } from '../../attributes/certificate-spec.js';
import { buildCertificate, certificateParts } from '../../pki/certificate-builder.js';
import { buildCsr } from '../../pki/csr.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  keyIdentifierOf,
  keyUsageExtension,
  subjectKeyIdentifierExtension,
} from '../../pki/extensions.js';
import { encodePrivateKey, generateKey, keySpecOf, type KeyPair, type KeyShape } from '../../pki/keys.js';
import { subjectNameDer } from '../../pki/names.js';
import { firstPemBlock, toPem } from '../../pki/pem.js';
import { signatureSchemeOf } from '../../pki/signing-keys.js';
import { KeyUsageFlags } from '../../pki/usages.js';
import { testSpec } from '../../pki/testing/openssl.js';
import { randomSerial, type SignRequest } from '../signer.js';

export interface TestCa {
  certPem: string;
  keyPem: string;
  keys: KeyPair;
}

export interface TestCaOptions {
  key?: KeyShape;
  encoding?: KeyEncoding;
  commonName?: string;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints cA; default true. */
  isCA?: boolean;
  /** KeyUsage bits; null omits the extension. Default keyCertSign | cRLSign. */
  keyUsage?: number | null;
  /** Signs the new CA with this one instead of self-signing. */
  parent?: TestCa;
}

const HOUR = 3600_000;

export async function makeTestCa(opts: TestCaOptions = {}): Promise<TestCa> {
  const keys = await generateKey(opts.key ?? { algorithm: 'ECDSA', size: 256 });
  const subject = subjectNameDer({ ...testSpec().subject, commonName: opts.commonName ?? 'test CA' });
  const spkiDer = keys.publicKey.export({ type: 'spki', format: 'der' });
  const parentDer = opts.parent && firstPemBlock(opts.parent.certPem, 'CERTIFICATE');
  const issuerKey: KeyObject = opts.parent?.keys.privateKey ?? keys.privateKey;
  const issuerSpki = parentDer ? certificateParts(parentDer).spkiDer : spkiDer;
  const keyUsage =
    opts.keyUsage === undefined ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : opts.keyUsage;
  const der = buildCertificate({
    serial: randomSerial(),
    issuerDer: parentDer ? certificateParts(parentDer).subjectDer : subject,
    subjectDer: subject,
    spkiDer,
    notBefore: opts.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: opts.notAfter ?? new Date(Date.now() + 24 * 365 * HOUR),
    extensions: [
      basicConstraintsExtension(opts.isCA ?? true),
      ...(keyUsage === null ? [] : [keyUsageExtension(keyUsage)]),
      subjectKeyIdentifierExtension(keyIdentifierOf(spkiDer)),
      authorityKeyIdentifierExtension(keyIdentifierOf(issuerSpki)),
    ],
    signingKey: issuerKey,
    scheme: signatureSchemeOf(keySpecOf(issuerKey)),
  });
  return {
    certPem: toPem(der, 'CERTIFICATE'),
    keyPem: encodePrivateKey(keys.privateKey, opts.encoding ?? 'PKCS8'),
    keys,
  };
}

/** A CSR PEM for `spec` (default: testSpec()) with a fresh key of `key`'s shape. */
export async function makeCsr(
  spec: Partial<CertificateSpec> = {},
  key: KeyShape = { algorithm: 'ECDSA', size: 256 },
): Promise<{ csrPem: string; keys: KeyPair }> {
  const keys = await generateKey(key);
  return { csrPem: await buildCsr(testSpec(spec), keys), keys };
}

/** A SignRequest with defaults a test overrides field by field. */
export function signRequest(csrPem: string, overrides: Partial<SignRequest> = {}): SignRequest {
  return {
    csrPem,
    durationSeconds: 3600,
    isCA: false,
    usages: ['digital signature', 'key encipherment', 'server auth'],
    pod: { name: 'web-0', namespace: 'default', uid: 'uid-1', serviceAccount: 'web' },
    nodeId: 'node-1',
    volumeId: 'csi-vol-1',
    ...overrides,
  };
}
