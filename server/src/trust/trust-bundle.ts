/**
 * The node's current trust bundle (what every volume's ca.crt holds) and where it comes from: the
 * issuer's GetCABundle by default, or a watched PEM file (TRUST_BUNDLE_FILE, as csi-driver-spiffe's
 * source CA bundle). Refreshed on a timer; a failed refresh keeps the bundle in use. Listeners hear
 * of every change.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../common/logger.js';
import type { Issuer } from '../issuer-client/issuer.port.js';
import { certificatePems, joinPem } from '../pki/pem.js';

/** Where the bundle comes from. `fetch` rejects when it cannot be read now. */
export interface TrustSource {
  readonly kind: 'issuer' | 'file';
  readonly describe: string;
  fetch(): Promise<string>;
}

export function issuerTrustSource(issuer: Pick<Issuer, 'caBundle'>, address: string): TrustSource {
  return { kind: 'issuer', describe: `issuer ${address}`, fetch: () => issuer.caBundle() };
}

export function fileTrustSource(path: string): TrustSource {
  return { kind: 'file', describe: `file ${path}`, fetch: () => readFile(path, 'utf8') };
}

/** Every certificate of `pem`, re-wrapped, each once, in order; throws when there is none. */
export function normalizeBundle(pem: string, field = 'trust bundle'): string {
  const seen = new Set<string>();
  const out = certificatePems(pem, field).filter((c) => !seen.has(c) && seen.add(c));
  if (out.length === 0) throw new Error(`${field} holds no CERTIFICATE`);
  return joinPem(out);
}

/** `a`'s certificates followed by those of `b` that `a` lacks. */
export function mergeBundles(a: string, b: string): string {
  return normalizeBundle(`${a}\n${b}`);
}

export type TrustListener = (bundlePem: string) => void;

export class TrustBundle {
  private bundle: string | undefined;
  private readonly listeners = new Set<TrustListener>();
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<boolean> | undefined;
  private stopped = false;
  /** The last bundle the issuer sent with a certificate and its normalized form (it rarely changes). */
  private lastIssued: { raw: string; normalized: string } | undefined;

  constructor(
    readonly source: TrustSource,
    private readonly logger: Logger,
  ) {}

  /** The bundle in use, undefined until the first successful fetch (or issuance). */
  current(): string | undefined {
    return this.bundle;
  }

  onChange(fn: TrustListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Fetches the bundle now; true when it changed. A failure is logged and keeps the bundle in use. */
  refresh(): Promise<boolean> {
    this.inflight ??= this.fetchAndSet().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Refreshes now and then every `intervalMs`. Never rejects. */
  async start(intervalMs: number): Promise<void> {
    await this.refresh();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The ca.crt to write next to a certificate the issuer just signed, given the bundle that came
   * with it. A file source always wins. With the issuer as source, a bundle that differs from ours
   * means the issuer rotated: the new certificate gets both (so it chains either way) and a refresh
   * is started that will bring every volume in line.
   */
  resolve(issuerBundlePem: string): string {
    if (this.source.kind === 'file' && this.bundle !== undefined) return this.bundle;
    let theirs: string;
    try {
      theirs = this.normalizeIssued(issuerBundlePem);
    } catch {
      return this.bundle ?? issuerBundlePem;
    }
    if (this.bundle === undefined) {
      if (this.source.kind === 'issuer') this.set(theirs);
      return theirs;
    }
    if (theirs === this.bundle) return theirs;
    if (this.source.kind === 'issuer') void this.refresh();
    return mergeBundles(theirs, this.bundle);
  }

  /** normalizeBundle of a bundle that came with a certificate; the same text as last time is not parsed again. */
  private normalizeIssued(pem: string): string {
    if (this.lastIssued?.raw === pem) return this.lastIssued.normalized;
    const normalized = normalizeBundle(pem, 'issuer CA bundle');
    this.lastIssued = { raw: pem, normalized };
    return normalized;
  }

  private async fetchAndSet(): Promise<boolean> {
    let next: string;
    try {
      next = normalizeBundle(await this.source.fetch(), this.source.describe);
    } catch (e) {
      this.logger.warn(
        { source: this.source.describe, err: { message: (e as Error).message } },
        'trust bundle refresh failed; keeping the bundle in use',
      );
      return false;
    }
    return this.set(next);
  }

  private set(next: string): boolean {
    if (next === this.bundle) return false;
    const before = this.bundle;
    this.bundle = next;
    this.logger.info(
      {
        source: this.source.describe,
        certificates: certificatePems(next).length,
        previous: before === undefined ? 0 : certificatePems(before).length,
      },
      before === undefined ? 'trust bundle loaded' : 'trust bundle changed',
    );
    for (const l of this.listeners) l(next);
    return true;
  }
}
