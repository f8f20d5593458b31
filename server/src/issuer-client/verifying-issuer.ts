import { UnavailableError } from '../common/errors.js';
import { checkIssuerAnswer, IssuerAnswerError } from './answer-check.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

/**
 * The trust anchors an answer must chain to: the node's trust bundle (TrustBundle satisfies this).
 * `refresh` fetches it again from its source (the issuer's GetCABundle or TRUST_BUNDLE_FILE).
 */
export interface TrustAnchors {
  current(): string | undefined;
  refresh(): Promise<boolean>;
}

/**
 * The Issuer port with every answer checked before it is returned (see answer-check.ts): anything
 * that does not match is an IssuerAnswerError (INTERNAL), so a publish writes nothing and a renewal
 * keeps the old files. With `anchors`, the leaf must chain to the bundle the node holds; a leaf that
 * does not makes the node fetch the bundle from its source once (a CA rotation it has not seen yet)
 * and check again. The answer's own CA bundle is never an anchor and is replaced by the bundle the
 * leaf was verified against. Without `anchors` (cert-manager mode without TRUST_BUNDLE_FILE) the
 * leaf must chain to the CA the answer names, when it names one.
 */
export class VerifyingIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly anchors?: TrustAnchors,
  ) {}

  async sign(req: SignRequest): Promise<SignedCertificate> {
    const signed = await this.inner.sign(req);
    if (!this.anchors) {
      const ca = signed.caBundlePem.trim() === '' ? undefined : signed.caBundlePem;
      checkIssuerAnswer({ req, signed, anchorsPem: ca });
      return signed;
    }
    let held = this.anchors.current();
    if (held === undefined) {
      await this.anchors.refresh();
      held = this.anchors.current();
      if (held === undefined)
        throw new UnavailableError(
          'the node has no trust bundle yet to verify the issuer answer against; kubelet will retry',
        );
    }
    try {
      checkIssuerAnswer({ req, signed, anchorsPem: held });
    } catch (e) {
      if (!(e instanceof IssuerAnswerError) || e.mismatch !== 'chain') throw e;
      // Perhaps the CA rotated since the last refresh: only the bundle's own source may say so.
      await this.anchors.refresh();
      const again = this.anchors.current();
      if (again === undefined || again === held) throw e;
      held = again;
      checkIssuerAnswer({ req, signed, anchorsPem: held });
    }
    return { ...signed, caBundlePem: held };
  }

  caBundle(): Promise<string> {
    return this.inner.caBundle();
  }

  close(): void {
    this.inner.close();
  }
}
