/**
 * Small PEM helpers: split a bundle into blocks, keep only certificates, join blocks, convert
 * between DER and PEM. Text outside BEGIN/END lines (comments, `openssl x509 -text` output) is
 * ignored; a block with a broken body is an InvalidArgumentError naming `field`.
 */
import { InvalidArgumentError } from '../common/errors.js';

export interface PemBlock {
  /** The label between "BEGIN " and the dashes: "CERTIFICATE", "PRIVATE KEY", ... */
  type: string;
  der: Buffer<ArrayBuffer>;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every PEM block of `text`, in order. */
export function splitPem(text: string, field = 'pem'): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const type = match[1] ?? '';
    const body = (match[2] ?? '').replace(/\s+/g, '');
    if (body.length === 0 || body.length % 4 !== 0 || !BASE64.test(body)) {
      throw new InvalidArgumentError(field, `PEM block ${blocks.length + 1} (${type}) has a malformed body`);
    }
    blocks.push({ type, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

/** DER of every CERTIFICATE block of a bundle, in order; other blocks are skipped. */
export function splitCertificates(bundle: string, field = 'pem'): Buffer<ArrayBuffer>[] {
  return splitPem(bundle, field)
    .filter((b) => b.type === 'CERTIFICATE')
    .map((b) => b.der);
}

/** DER of the first block of `type`; InvalidArgumentError(field) when there is none. */
export function firstPemBlock(text: string, type: string, field = 'pem'): Buffer<ArrayBuffer> {
  const block = splitPem(text, field).find((b) => b.type === type);
  if (block === undefined) throw new InvalidArgumentError(field, `no "${type}" PEM block found`);
  return block.der;
}

/** PEM text of DER data: 64-character lines, ending with a newline. */
export function toPem(der: Uint8Array, type: string): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** Concatenates PEM texts, each ending with exactly one newline; empty parts are dropped. */
export function joinPem(parts: readonly string[]): string {
  return parts
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => `${p}\n`)
    .join('');
}

/** Normalized PEM of every certificate of a bundle (re-wrapped, comments dropped). */
export function certificatePems(bundle: string, field = 'pem'): string[] {
  return splitCertificates(bundle, field).map((der) => toPem(der, 'CERTIFICATE'));
}
