import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

/** The ca.crt this node distributes in place of an issuer's bundle (`TrustBundle.resolve`). */
export interface TrustResolver {
  resolve(issuerBundlePem: string): string;
}

/**
 * The Issuer port with the node's trust bundle applied: a signed certificate comes back with the
 * ca.crt this node distributes (see TrustBundle.resolve) instead of the issuer's bare bundle.
 */
export class TrustingIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly trust: TrustResolver,
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
