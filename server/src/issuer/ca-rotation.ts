/**
 * CA rotation without breaking trust. A new CA first only joins the trust bundle (GetCABundle and
 * every response's ca_bundle_pem), so nodes rewrite every volume's ca.crt before any certificate
 * chains to it; after `delayMs` it becomes the signing CA. The old CA stays in the bundle until no
 * certificate it signed can still be valid: the longest lifetime the issuer grants after it stopped
 * signing, or its own expiry, whichever comes first. A new CA under the same root signs at once.
 *
 * With a `store` (CA_STATE_DIR) every change is saved, and a restarted issuer picks the rotation up
 * from the record (`restored`): retired CAs stay in the bundle until their time, and a CA that was
 * signing before the restart but is no longer the one loaded is retired then. Without a store the
 * state is in memory: an issuer restarted mid-rotation trusts only the CA it loads.
 */
import type { Logger } from '../common/logger.js';
import { certificatePems, joinPem } from '../pki/pem.js';
import { CaCertificate, type CertificateAuthority } from './certificate-authority.js';
import type { CaEntry, RotationRecord, RotationStore } from './ca-rotation-store.js';
import { CLOCK_SKEW_MS } from './signer.js';

export interface CaRotationOptions {
  initial: CertificateAuthority;
  /** Makes `ca` the signing CA (swaps IssuerState.ca). */
  activate: (ca: CertificateAuthority) => void;
  /** How long a new CA is only trusted before it signs; at least the nodes' refresh interval plus their rewrite time. */
  delayMs: number;
  /** The longest certificate lifetime the issuer grants (MAX_DURATION). */
  maxLeafSeconds: number;
  logger: Logger;
  now?: () => number;
  /** Called whenever the bundle's content changes. */
  onBundleChange?: (bundlePem: string) => void;
  /** Saves the rotation after every change (a failed save is logged; the rotation goes on). */
  store?: RotationStore | undefined;
  /** The record saved before a restart (`store.load()`), applied on construction. */
  restored?: RotationRecord | undefined;
}

/** A CA that stopped signing: only its certificates are kept. */
interface Retired {
  certificate: string;
  bundle: string;
  subject: string;
  notAfter: number;
  until: number;
}

export interface CaRotationStatus {
  active: { subject: string; notAfter: string };
  pending?: { subject: string; notAfter: string; activateAt: string } | undefined;
  retired: { subject: string; notAfter: string; trustedUntil: string }[];
}

export class CaRotation {
  private active: CertificateAuthority;
  private pending: { ca: CertificateAuthority; at: number; timer: NodeJS.Timeout } | undefined;
  private retired: Retired[] = [];
  private lastBundle: string;
  private merged: { key: string; pem: string } | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly o: CaRotationOptions) {
    this.active = o.initial;
    if (o.restored) this.restore(o.restored);
    this.lastBundle = this.bundlePem();
    this.schedulePrune();
    this.persist();
  }

  /**
   * Takes the retired CAs of a record saved before a restart, and retires the CA that was signing
   * then if another one is loaded now (it may have signed certificates until the restart).
   */
  private restore(rec: RotationRecord): void {
    const now = this.now();
    const current = entryOf(this.active);
    const same = (e: CaEntry) => e.certificate.trim() === current.certificate.trim();
    for (const r of rec.retired) {
      const until = Date.parse(r.until);
      if (until > now && !same(r)) this.retired.push(retiredEntry(r, until));
    }
    if (!same(rec.active)) {
      const prev = retiredEntry(rec.active, 0);
      prev.until = Math.min(prev.notAfter, now + this.o.maxLeafSeconds * 1000 + CLOCK_SKEW_MS);
      if (prev.until > now) this.retired.push(prev);
      const inDelay = rec.pending && same(rec.pending) && Date.parse(rec.pending.activateAt) > now;
      this.o.logger.warn(
        {
          ca: this.active.certificate.subject,
          previous: prev.subject,
          previousTrustedUntil: new Date(prev.until).toISOString(),
        },
        inDelay
          ? 'restarted during the rotation delay: the new CA signs now (the previous key is gone); the previous CA stays trusted'
          : 'the CA changed while the issuer was stopped; the previous CA stays trusted until its last certificate expires',
      );
    }
    if (this.retired.length > 0) {
      this.o.logger.info(
        {
          retired: this.retired.map((r) => ({
            ca: r.subject,
            trustedUntil: new Date(r.until).toISOString(),
          })),
        },
        'CA rotation state restored',
      );
    }
  }

  /** Resolves when every save started so far has finished (or failed and been logged). */
  flush(): Promise<void> {
    return this.saving;
  }

  /** The rotation as the store keeps it. */
  record(): RotationRecord {
    const now = this.now();
    return {
      version: 1,
      active: entryOf(this.active),
      pending: this.pending && {
        ...entryOf(this.pending.ca),
        activateAt: new Date(this.pending.at).toISOString(),
      },
      retired: this.retired
        .filter((r) => r.until > now)
        .map((r) => ({
          certificate: r.certificate,
          bundle: r.bundle,
          until: new Date(r.until).toISOString(),
        })),
    };
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  /**
   * The CA certificates to trust now, newest first, each once. Every signed certificate carries it,
   * so the merged text is kept until the set of bundles changes.
   */
  bundlePem(): string {
    const now = this.now();
    const cas = [
      ...(this.pending ? [this.pending.ca] : []),
      this.active,
      ...this.retired.filter((r) => r.until > now),
    ].map((x) => ('bundle' in x ? x.bundle : x.caBundlePem));
    const key = cas.join('\0');
    if (this.merged?.key !== key) this.merged = { key, pem: mergeBundles(cas) };
    return this.merged.pem;
  }

  /**
   * Offers a newly loaded CA (from the watched files or Secret). The same CA as the active or pending
   * one is ignored; a different one replaces any pending CA and starts the delay again.
   */
  propose(ca: CertificateAuthority): void {
    const fp = fingerprint(ca);
    if (fp === fingerprint(this.active) || (this.pending && fp === fingerprint(this.pending.ca))) return;
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    const rootKnown = certificatePems(ca.caBundlePem).every((pem) =>
      certificatePems(this.bundlePem()).some((b) => b.trim() === pem.trim()),
    );
    if (rootKnown || this.o.delayMs <= 0) {
      this.switchTo(ca);
      return;
    }
    const at = this.now() + this.o.delayMs;
    const timer = setTimeout(() => this.switchTo(ca), this.o.delayMs);
    timer.unref();
    this.pending = { ca, at, timer };
    this.o.logger.info(
      { ca: ca.certificate.subject, activateAt: new Date(at).toISOString() },
      'new CA added to the trust bundle; it signs after the rotation delay',
    );
    this.changed();
  }

  /** Makes the pending CA sign now (tests, operators who know every node has the bundle). */
  activatePending(): void {
    if (this.pending) this.switchTo(this.pending.ca);
  }

  status(): CaRotationStatus {
    const now = this.now();
    return {
      active: { subject: this.active.certificate.subject, notAfter: this.active.notAfter.toISOString() },
      pending: this.pending && {
        subject: this.pending.ca.certificate.subject,
        notAfter: this.pending.ca.notAfter.toISOString(),
        activateAt: new Date(this.pending.at).toISOString(),
      },
      retired: this.retired
        .filter((r) => r.until > now)
        .map((r) => ({
          subject: r.subject,
          notAfter: new Date(r.notAfter).toISOString(),
          trustedUntil: new Date(r.until).toISOString(),
        })),
    };
  }

  stop(): void {
    if (this.pending) clearTimeout(this.pending.timer);
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    this.pending = undefined;
    this.pruneTimer = undefined;
  }

  private switchTo(ca: CertificateAuthority): void {
    if (this.pending) clearTimeout(this.pending.timer);
    this.pending = undefined;
    const now = this.now();
    const old = this.active;
    const until = Math.min(old.notAfter.getTime(), now + this.o.maxLeafSeconds * 1000 + CLOCK_SKEW_MS);
    const oldEntry = entryOf(old);
    this.retired = [
      ...this.retired.filter((r) => r.until > now && r.certificate !== oldEntry.certificate),
      retiredEntry(oldEntry, until),
    ];
    this.active = ca;
    this.o.activate(ca);
    this.o.logger.info(
      {
        ca: ca.certificate.subject,
        notAfter: ca.notAfter.toISOString(),
        previous: old.certificate.subject,
        previousTrustedUntil: new Date(until).toISOString(),
      },
      'CA rotated: the new CA signs; the previous one stays trusted until its last certificate expires',
    );
    this.schedulePrune();
    this.changed();
  }

  /** Wakes up when the next retired CA leaves the bundle, so the change is announced. */
  private schedulePrune(): void {
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    const next = Math.min(...this.retired.map((r) => r.until));
    if (!Number.isFinite(next)) return;
    const delay = Math.min(Math.max(0, next - this.now()) + 10, 2 ** 31 - 1);
    this.pruneTimer = setTimeout(() => {
      this.retired = this.retired.filter((r) => r.until > this.now());
      this.changed();
      this.schedulePrune();
    }, delay);
    this.pruneTimer.unref();
  }

  private changed(): void {
    this.persist();
    const bundle = this.bundlePem();
    if (bundle === this.lastBundle) return;
    this.lastBundle = bundle;
    this.o.onBundleChange?.(bundle);
  }

  /** Saves the current record after the previous save; saves never overlap. */
  private persist(): void {
    const store = this.o.store;
    if (!store) return;
    const rec = this.record();
    this.saving = this.saving.then(() =>
      store
        .save(rec)
        .catch((e: unknown) =>
          this.o.logger.error(
            { err: { message: (e as Error).message } },
            'could not save the CA rotation state; a restart now would forget retired CAs',
          ),
        ),
    );
  }
}

/** The certificates of `bundles`, in order, each once. */
function mergeBundles(bundles: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const bundle of bundles) {
    for (const pem of certificatePems(bundle)) {
      const k = pem.trim();
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(pem);
    }
  }
  return joinPem(out);
}

function entryOf(ca: CertificateAuthority): CaEntry {
  return { certificate: ca.certificate.toString('pem'), bundle: ca.caBundlePem };
}

function retiredEntry(e: CaEntry, until: number): Retired {
  const cert = CaCertificate.parse(certificatePems(e.certificate)[0]!);
  return { ...e, subject: cert.subject, notAfter: cert.notAfter.getTime(), until };
}

function fingerprint(ca: CertificateAuthority): string {
  return Buffer.from(ca.certificate.rawData).toString('base64');
}
