import type { Issuer, SignRequest, SignedCertificate } from '../issuance/issuer.port.js';
import type { NodeMetrics } from './node-metrics.js';

/** The Issuer port with every signing call timed into `issuance_duration_seconds`. */
export class InstrumentedIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly metrics: NodeMetrics,
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
