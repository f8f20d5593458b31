import type { CertificateAuthority } from '../../src/issuer/certificate-authority.js';
import { CertificateAuthority as CA } from '../../src/issuer/certificate-authority.js';
import { createDevCaPem } from '../../src/issuer/dev-ca.js';
import { signCsr } from '../../src/issuer/signer.js';
import { DEFAULT_SIGNING_POLICY, type SigningPolicy } from '../../src/issuer/signing-policy.js';
import type { Issuer, SignRequest, SignedCertificate } from '../../src/issuer-client/issuer.port.js';
import { UnavailableError } from '../../src/common/errors.js';

/**
 * InProcessIssuer: the real signing code behind the Issuer port without the gRPC hop, for unit
 * tests of the node core. `down = true` makes it behave like an unreachable issuer.
 */
export class InProcessIssuer implements Issuer {
  down = false;
  readonly requests: SignRequest[] = [];

  private constructor(
    readonly ca: CertificateAuthority,
    readonly policy: SigningPolicy,
  ) {}

  static async create(policy: Partial<SigningPolicy> = {}): Promise<InProcessIssuer> {
    const { certPem, keyPem } = await createDevCaPem('unit-test CA');
    return new InProcessIssuer(await CA.load({ certPem, keyPem }), { ...DEFAULT_SIGNING_POLICY, ...policy });
  }

  async sign(req: SignRequest): Promise<SignedCertificate> {
    if (this.down) throw new UnavailableError('certificate issuer at in-process is unreachable (test)');
    this.requests.push(req);
    return signCsr(this.ca, this.policy, req);
  }

  async caBundle(): Promise<string> {
    return this.ca.caBundlePem;
  }

  close(): void {}
}
