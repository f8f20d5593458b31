import type { Issuer, SignRequest, SignedCertificate } from '../issuance/issuer.port.js';
import type { TrustBundle } from './trust-bundle.js';

/**
 * The Issuer port with the node's trust bundle applied: a signed certificate comes back with the
 * ca.crt this node distributes (see TrustBundle.resolve) instead of the issuer's bare bundle.
 */
export class TrustingIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly trust: TrustBundle,
  ) {}

  async sign(req: SignRequest): Promise<SignedCertificate> {
    const signed = await this.inner.sign(req);
    return { ...signed, caBundlePem: this.trust.resolve(signed.caBundlePem) };
  }

  caBundle(): Promise<string> {
    return this.inner.caBundle();
  }

  close(): void {
    this.inner.close();
  }
}
