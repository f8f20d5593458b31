/**
 * DER encodings of names: the subject Name of a SubjectSpec and GeneralNames (DNS, IP, URI, email
 * SANs), plus decoding of GeneralNames read from a CSR. Values that X.509 cannot carry (non-ASCII DNS
 * names, malformed IPs) are InvalidArgumentErrors naming the volume attribute.
 */
import { isIP } from 'node:net';
import type { SubjectSpec } from '../attributes/certificate-spec.js';
import { InvalidArgumentError, quoteValue } from '../common/errors.js';
import * as der from './der.js';

export const FIELD = {
  dnsNames: 'csi.k8s.cert-driver/dns-names',
  ipAddresses: 'csi.k8s.cert-driver/ip-sans',
  uris: 'csi.k8s.cert-driver/uri-sans',
  emailAddresses: 'csi.k8s.cert-driver/email-sans',
} as const;

/** X.520 attribute OIDs, in the order Go's `pkix.Name` (and so cert-manager) writes them. */
const ATTRIBUTE_OIDS: readonly [keyof SubjectSpec, string][] = [
  ['countries', '2.5.4.6'],
  ['provinces', '2.5.4.8'],
  ['localities', '2.5.4.7'],
  ['streetAddresses', '2.5.4.9'],
  ['postalCodes', '2.5.4.17'],
  ['organizations', '2.5.4.10'],
  ['organizationalUnits', '2.5.4.11'],
  ['commonName', '2.5.4.3'],
  ['serialNumber', '2.5.4.5'],
];

/** DER Name of a subject: one RDN per value, PrintableString where allowed (as Go), UTF8String otherwise. */
export function subjectNameDer(subject: SubjectSpec): Buffer {
  const rdns: Buffer[] = [];
  for (const [key, attrOid] of ATTRIBUTE_OIDS) {
    const raw = subject[key];
    const values = Array.isArray(raw) ? raw : [raw];
    for (const v of values) {
      if (typeof v !== 'string' || v === '') continue;
      const value = der.isPrintable(v) ? der.printableString(v) : der.utf8String(v);
      rdns.push(der.setOf(der.sequence(der.oid(attrOid), value)));
    }
  }
  return der.sequence(...rdns);
}

export type GeneralNameType = 'dns' | 'ip' | 'uri' | 'email';
export interface GeneralName {
  type: GeneralNameType | 'other';
  value: string;
}

/** GeneralName context tags (RFC 5280 4.2.1.6): rfc822Name [1], dNSName [2], URI [6], iPAddress [7]. */
const TAG_OF: Readonly<Record<GeneralNameType, number>> = { email: 0x81, dns: 0x82, uri: 0x86, ip: 0x87 };

/** 4 or 16 address bytes of an IPv4/IPv6 text (embedded IPv4 allowed, zone ids not). */
export function ipToBytes(ip: string, field: string = FIELD.ipAddresses): Buffer {
  const family = ip.includes('%') ? 0 : isIP(ip);
  if (family === 4) return Buffer.from(ip.split('.').map(Number));
  if (family !== 6) throw new InvalidArgumentError(field, `${quoteValue(ip)} is not an IP address`);
  let text = ip;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const out = Buffer.alloc(16);
  [...left, ...zeros, ...right].forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  return out;
}

/** Text of 4 or 16 address bytes (IPv6 compressed as Node prints it); hex for anything else. */
export function ipFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  if (bytes.length !== 16) return Buffer.from(bytes).toString('hex');
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  );
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function encodeGeneralName(name: GeneralName): Buffer {
  if (name.type === 'other') throw new InvalidArgumentError('subjectAltNames', 'unsupported name type');
  if (name.type === 'ip') return der.tlv(TAG_OF.ip, ipToBytes(name.value));
  const field = { dns: FIELD.dnsNames, uri: FIELD.uris, email: FIELD.emailAddresses }[name.type];
  if (name.value === '' || !der.isAscii(name.value)) {
    throw new InvalidArgumentError(
      field,
      `${quoteValue(name.value)} must be non-empty ASCII (IA5String); punycode IDNs`,
    );
  }
  return der.tlv(TAG_OF[name.type], Buffer.from(name.value, 'latin1'));
}

/** DER GeneralNames (a SEQUENCE) of the given names, in order. */
export function generalNamesDer(names: readonly GeneralName[]): Buffer {
  return der.sequence(...names.map(encodeGeneralName));
}

/** Names of a DER GeneralNames; unsupported forms come back as type "other". Throws DerError when malformed. */
export function decodeGeneralNames(value: Buffer): GeneralName[] {
  const seq = der.readOnly(value, der.TAG.SEQUENCE);
  return der.readChildren(seq.value).map((t): GeneralName => {
    switch (t.tag) {
      case TAG_OF.email:
        return { type: 'email', value: t.value.toString('latin1') };
      case TAG_OF.dns:
        return { type: 'dns', value: t.value.toString('latin1') };
      case TAG_OF.uri:
        return { type: 'uri', value: t.value.toString('latin1') };
      case TAG_OF.ip:
        if (t.value.length !== 4 && t.value.length !== 16)
          return { type: 'other', value: 'iPAddress of bad length' };
        return { type: 'ip', value: ipFromBytes(t.value) };
      default:
        return { type: 'other', value: `[${t.tag & 0x1f}]` };
    }
  });
}

/** One attribute of a distinguished name: its type OID and its value as text. */
export interface NameAttribute {
  oid: string;
  value: string;
}

export const NAME_OIDS = { commonName: '2.5.4.3', organization: '2.5.4.10' } as const;

/**
 * Text of a directory string: UTF8String, PrintableString, IA5String, NumericString, VisibleString
 * as their bytes say; TeletexString as Latin-1; BMPString as UTF-16BE; UniversalString as UTF-32BE.
 * Any other value comes back as `#` and the hex of its whole encoding (RFC 4514 2.4).
 */
function directoryString(t: der.Tlv): string {
  switch (t.tag) {
    case der.TAG.UTF8_STRING:
      return t.value.toString('utf8');
    case der.TAG.PRINTABLE_STRING:
    case der.TAG.IA5_STRING:
    case 0x12: // NumericString
    case 0x1a: // VisibleString
    case 0x14: // TeletexString
      return t.value.toString('latin1');
    case 0x1e: // BMPString
      if (t.value.length % 2 !== 0) throw new der.DerError('bad BMPString');
      return Buffer.from(t.value).swap16().toString('utf16le');
    case 0x1c: {
      // UniversalString
      if (t.value.length % 4 !== 0) throw new der.DerError('bad UniversalString');
      let s = '';
      for (let i = 0; i < t.value.length; i += 4) s += String.fromCodePoint(t.value.readUInt32BE(i));
      return s;
    }
    default:
      return `#${t.bytes.toString('hex')}`;
  }
}

/**
 * The attributes of a DER Name (RDNSequence), in order; a multi-valued RDN gives several. Throws
 * DerError when malformed. The project's own reader: @peculiar/x509's Name spent ~50 µs on what
 * this does in ~2 (ADR 24).
 */
export function decodeName(nameDer: Buffer): NameAttribute[] {
  const out: NameAttribute[] = [];
  for (const rdn of der.readChildren(der.readOnly(nameDer, der.TAG.SEQUENCE).value)) {
    if (rdn.tag !== der.TAG.SET) throw new der.DerError('bad RelativeDistinguishedName');
    const atvs = der.readChildren(rdn.value);
    if (atvs.length === 0) throw new der.DerError('empty RelativeDistinguishedName');
    for (const atv of atvs) {
      if (atv.tag !== der.TAG.SEQUENCE) throw new der.DerError('bad AttributeTypeAndValue');
      const [type, value, extra] = der.readChildren(atv.value);
      if (type === undefined || value === undefined || extra !== undefined)
        throw new der.DerError('bad AttributeTypeAndValue');
      out.push({ oid: der.decodeOid(type), value: directoryString(value) });
    }
  }
  return out;
}

/** The values of one attribute type (`NAME_OIDS`) of a decoded Name, in order. */
export function nameValues(attributes: readonly NameAttribute[], oid: string): string[] {
  return attributes.filter((a) => a.oid === oid).map((a) => a.value);
}
