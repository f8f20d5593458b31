import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

/** Times one signing call (`NodeMetrics.timeIssuance`: `issuance_duration_seconds`). */
export interface IssuanceTimer {
  timeIssuance<T>(fn: () => Promise<T>): Promise<T>;
}

/** The Issuer port with every signing call timed. */
export class InstrumentedIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly metrics: IssuanceTimer,
  ) {}

  sign(req: SignRequest): Promise<SignedCertificate> {
    return this.metrics.timeIssuance(() => this.inner.sign(req));
  }

  caBundle(): Promise<string> {
    return this.inner.caBundle();
  }

  close(): void {
    this.inner.close();
  }
}
