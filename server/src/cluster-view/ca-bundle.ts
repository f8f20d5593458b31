/**
 * The CA state the cluster view shows, from a PEM bundle file (CA_BUNDLE_FILE): in the chart, the
 * CA Secret's `tls.crt` projected alone into the pod, so neither the process nor its service account
 * can read the key. The file is read again at most every `ttlMs` when asked (kubelet updates a
 * projected Secret in place). Several certificates in the bundle mean a rotation: the issuer keeps the
 * old CA trusted until no certificate it signed can be alive (ADR 7). Only public certificates are
 * parsed; a private key in the file is ignored, never served.
 */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ClusterCa, ClusterCaState } from '@csi-cert-driver/api-contract';

const CERT = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----/g;
const MAX_BYTES = 1 << 20;
const EXPIRING_DAYS = 30;

/** Parses the certificates of a PEM bundle into the wire shape; newest notBefore first. Pure. */
export function caState(pem: string, source: string, now: number): ClusterCaState {
  const cas: ClusterCa[] = [];
  for (const block of pem.match(CERT) ?? []) {
    const x = new X509Certificate(block);
    const notAfter = Date.parse(x.validTo);
    cas.push({
      subject: x.subject.replace(/\n/g, ', '),
      serialHex: x.serialNumber.toLowerCase(),
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(notAfter).toISOString(),
      daysLeft: Math.floor((notAfter - now) / 86400_000),
      sha256Fingerprint: x.fingerprint256,
    });
  }
  cas.sort((a, b) => (a.notBefore < b.notBefore ? 1 : -1));
  const newest = cas[0];
  if (!newest)
    return { source, cas, rotating: false, status: 'unknown', error: 'no certificate in the bundle' };
  const status = newest.daysLeft < 0 ? 'expired' : newest.daysLeft < EXPIRING_DAYS ? 'expiring' : 'ok';
  return { source, cas, rotating: cas.length > 1, status };
}

export class CaBundleSource {
  private cached: { at: number; state: ClusterCaState } | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly ttlMs = 30_000,
  ) {}

  /** The last state read; starts a re-read in the background when older than the TTL. */
  current(now = Date.now()): ClusterCaState {
    if (!this.file) {
      return {
        source: 'none',
        cas: [],
        rotating: false,
        status: 'unknown',
        error: 'CA_BUNDLE_FILE is not set',
      };
    }
    if (!this.cached || now - this.cached.at > this.ttlMs) void this.refresh(now);
    return (
      this.cached?.state ?? {
        source: this.file,
        cas: [],
        rotating: false,
        status: 'unknown',
        error: 'not read yet',
      }
    );
  }

  /** Reads the file now. */
  refresh(now = Date.now()): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    this.reading ??= readFile(file)
      .then((buf) => {
        if (buf.length > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
        return caState(buf.toString('utf8'), file, now);
      })
      .catch((e: unknown): ClusterCaState => ({
        source: file,
        cas: [],
        rotating: false,
        status: 'unknown',
        error: `cannot read the bundle: ${(e as Error).message.slice(0, 200)}`,
      }))
      .then((state) => {
        this.cached = { at: now, state };
        this.reading = undefined;
      });
    return this.reading;
  }
}
