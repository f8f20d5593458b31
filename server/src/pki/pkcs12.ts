/**
 * PKCS#12 (RFC 7292) keystores for Java and other PKCS#12 consumers: one private key with its
 * certificate chain. The key is a PKCS#8 shrouded key bag encrypted with PBES2 (PBKDF2 with
 * HMAC-SHA256, AES-256-CBC), the whole store is integrity-protected with an HMAC-SHA256 MAC: OpenSSL
 * 3's defaults, read by OpenSSL 3 and Java 11.0.12+/17+ `keytool`. Certificates are stored in plain
 * `data` (they are public), so tools can list them without the password. An empty password is a
 * valid password (as cert-manager's csi-driver), not "no protection".
 */
import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import {
  context,
  NULL,
  octetString,
  oid,
  sequence,
  setOf,
  smallInteger,
  tlv,
  unsignedInteger,
} from './der.js';
import { splitCertificates } from './pem.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

/** Iterations of the MAC key derivation; OpenSSL's PKCS12_DEFAULT_ITER (Node fixes the key's PBKDF2 at the same). */
export const PKCS12_MAC_ITERATIONS = 2048;
/** The alias Java shows for the key entry (cert-manager's keystores use the same). */
export const PKCS12_DEFAULT_ALIAS = 'certificate';

const BMP_STRING = 0x1e;

export interface Pkcs12Input {
  privateKey: KeyObject;
  /** PEM: the leaf first, then any intermediates and CA certificates to include in the chain. */
  certificatesPem: string;
  /** "" is an empty password, which OpenSSL and keytool accept. */
  password: string;
  alias?: string | undefined;
  /** Overrides for deterministic tests; random by default. */
  macSalt?: Buffer | undefined;
}

/** DER of a PKCS#12 keystore holding `privateKey` and the certificates of `certificatesPem`, leaf first. */
export function encodePkcs12(input: Pkcs12Input): Buffer {
  const certs = splitCertificates(input.certificatesPem, 'certificate');
  const leaf = certs[0];
  if (leaf === undefined) throw new TypeError('encodePkcs12: no certificate given');
  const localKeyId = createHash('sha1').update(leaf).digest();
  const keyAttributes = setOf(
    attribute(OID.friendlyName, tlv(BMP_STRING, bmp(input.alias ?? PKCS12_DEFAULT_ALIAS))),
    attribute(OID.localKeyId, octetString(localKeyId)),
  );

  const encryptedKey = input.privateKey.export({
    type: 'pkcs8',
    format: 'der',
    cipher: 'aes-256-cbc',
    passphrase: input.password,
  });
  const keyBag = safeBag(OID.pkcs8ShroudedKeyBag, encryptedKey, keyAttributes);
  const certBags = certs.map((der, i) =>
    safeBag(
      OID.certBag,
      sequence(oid(OID.x509Certificate), context(0, true, octetString(der))),
      i === 0 ? keyAttributes : undefined,
    ),
  );

  const authenticatedSafe = sequence(
    dataContentInfo(sequence(...certBags)),
    dataContentInfo(sequence(keyBag)),
  );
  const macSalt = input.macSalt ?? randomBytes(16);
  const macKey = pkcs12Kdf(input.password, macSalt, 3, PKCS12_MAC_ITERATIONS, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  const macData = sequence(
    sequence(sequence(oid(OID.sha256), NULL), octetString(mac)),
    octetString(macSalt),
    unsignedInteger(uint32(PKCS12_MAC_ITERATIONS)),
  );
  return sequence(smallInteger(3), dataContentInfo(authenticatedSafe), macData);
}

function attribute(type: string, value: Buffer): Buffer {
  return sequence(oid(type), setOf(value));
}

function safeBag(type: string, value: Uint8Array, attributes?: Buffer): Buffer {
  return attributes
    ? sequence(oid(type), context(0, true, value), attributes)
    : sequence(oid(type), context(0, true, value));
}

/** ContentInfo of type id-data: `content` wrapped in [0] EXPLICIT OCTET STRING. */
function dataContentInfo(content: Buffer): Buffer {
  return sequence(oid(OID.data), context(0, true, octetString(content)));
}

/** BMPString bytes (UTF-16 big-endian) without a terminator. */
function bmp(s: string): Buffer {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i + 1 < le.length; i += 2) {
    const b = le[i] as number;
    le[i] = le[i + 1] as number;
    le[i + 1] = b;
  }
  return le;
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/**
 * The PKCS#12 key derivation (RFC 7292 B.2) with SHA-256: `id` 1 = key, 2 = IV, 3 = MAC key. The
 * password is a BMPString with a two-byte NUL terminator, so "" becomes 00 00 (as OpenSSL and Java do).
 */
export function pkcs12Kdf(password: string, salt: Buffer, id: number, iterations: number, n: number): Buffer {
  const u = 32;
  const v = 64;
  const pass = Buffer.concat([bmp(password), Buffer.alloc(2)]);
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length] as number;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pass)]);
  const out: Buffer[] = [];
  for (let produced = 0; produced < n; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    out.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      // I_j = (I_j + B + 1) mod 2^(8v)
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (I[j + k] as number) + (B[k] as number) + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(out).subarray(0, n);
}
