/**
 * A minimal DER writer and a strict DER reader for the few structures on the hot path (PKCS#10
 * requests, TBSCertificates, extensions). @peculiar/x509 built the same structures 15–25× slower in
 * our measurements; it is still used for parsing certificates off the hot path. The reader accepts
 * only definite, minimally encoded lengths and never reads outside its buffer; malformed input throws
 * DerError.
 */

export class DerError extends Error {}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with a single-byte tag; `contents` are concatenated. */
export function tlv(tag: number, ...contents: readonly Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const sequence = (...items: readonly Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...items);

/** DER SET OF: elements sorted by their encodings (X.690 11.6). */
export const setOf = (...items: readonly Uint8Array[]): Buffer =>
  tlv(TAG.SET, ...[...items].sort((a, b) => Buffer.compare(a, b)));

/** Context-specific tag [n], constructed (EXPLICIT or IMPLICIT SEQUENCE/SET) or primitive. */
export const context = (n: number, constructed: boolean, ...items: readonly Uint8Array[]): Buffer =>
  tlv(0x80 | (constructed ? 0x20 : 0) | n, ...items);

export const NULL = Buffer.from([TAG.NULL, 0]);

export const boolean = (value: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, value ? 0xff : 0]);

/** A non-negative INTEGER from big-endian unsigned bytes (leading zeros stripped, sign byte added). */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const body = Buffer.from(bytes.subarray(i));
  if (body.length === 0) return tlv(TAG.INTEGER, Buffer.from([0]));
  return (body[0] ?? 0) & 0x80 ? tlv(TAG.INTEGER, Buffer.from([0]), body) : tlv(TAG.INTEGER, body);
}

export const smallInteger = (n: number): Buffer => unsignedInteger(Buffer.from([n]));

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted text; encodings are cached. */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map(Number);
  const first = (arcs[0] ?? 0) * 40 + (arcs[1] ?? 0);
  const bytes: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  const encoded = tlv(TAG.OID, Buffer.from(bytes));
  oidCache.set(dotted, encoded);
  return encoded;
}

export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, bytes);
export const bitString = (bytes: Uint8Array, unusedBits = 0): Buffer =>
  tlv(TAG.BIT_STRING, Buffer.from([unusedBits]), bytes);
export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const printableString = (s: string): Buffer => tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'latin1'));

/** X.520 PrintableString characters. */
export const isPrintable = (s: string): boolean => /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);
export const isAscii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/** RFC 5280 Time: UTCTime for 1950–2049, GeneralizedTime otherwise; whole seconds, UTC. */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-01-31T12:34:56.789Z
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(digits.slice(2), 'latin1'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(digits, 'latin1'));
}

/** A parsed TLV: `bytes` is the whole encoding, `value` its contents (views into the input). */
export interface Tlv {
  tag: number;
  bytes: Buffer;
  value: Buffer;
}

/** Reads the TLV at `offset`. Single-byte tags, definite minimal lengths up to 4 bytes only. */
export function readTlv(buf: Buffer, offset = 0): Tlv {
  if (offset + 2 > buf.length) throw new DerError('truncated DER');
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let length = buf[offset + 1] as number;
  let header = 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || offset + 2 + n > buf.length) throw new DerError('bad DER length');
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    if (length < 0x80 || (n > 1 && buf[offset + 2] === 0)) throw new DerError('non-minimal DER length');
    header += n;
  }
  const end = offset + header + length;
  if (end > buf.length) throw new DerError('truncated DER');
  return { tag, bytes: buf.subarray(offset, end), value: buf.subarray(offset + header, end) };
}

/** The children of a constructed TLV's contents, which must be consumed exactly. */
export function readChildren(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let offset = 0; offset < value.length;) {
    const child = readTlv(value, offset);
    out.push(child);
    offset += child.bytes.length;
  }
  return out;
}

/** Reads exactly one TLV of `tag` filling all of `buf`. */
export function readOnly(buf: Buffer, tag: number): Tlv {
  const t = readTlv(buf);
  if (t.tag !== tag || t.bytes.length !== buf.length)
    throw new DerError(`expected a single 0x${tag.toString(16)} element`);
  return t;
}

export function decodeOid(t: Tlv): string {
  if (t.tag !== TAG.OID || t.value.length === 0) throw new DerError('expected an OBJECT IDENTIFIER');
  const arcs: number[] = [];
  let v = 0;
  for (const b of t.value) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}
