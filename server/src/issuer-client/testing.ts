/** Issuer fakes for tests (imported only by `*.test.ts`). */
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

/**
 * Another issuer with `check` run before each signature: it may record the request, or refuse it by
 * throwing (the signature then rejects with that error and `inner` is not called).
 */
export class CheckedIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly check: (req: SignRequest) => void,
  ) {}
  async sign(req: SignRequest): Promise<SignedCertificate> {
    this.check(req);
    return this.inner.sign(req);
  }
  caBundle(): Promise<string> {
    return this.inner.caBundle();
  }
  close(): void {}
}
