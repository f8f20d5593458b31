/**
 * Picks the issuer per volume: a volume whose issuerRef has a name goes to cert-manager, every other
 * one to the built-in issuer. Renewals carry the same spec, so they take the same route. node.role
 * builds the cert-manager side (with `await import()`) only when CERT_MANAGER_ENABLED=true, so a node
 * without it never loads the Kubernetes client.
 */
import { InvalidArgumentError } from '../common/errors.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

export interface RoutingIssuerOptions {
  builtIn: Issuer;
  /** Undefined: cert-manager mode is off and a volume with issuer-name is refused. */
  certManager?: Issuer | undefined;
  /**
   * Key of the pod's API-server token in kubelet's token map. That token lets its holder act as the
   * pod against the API server, so it is never forwarded to the built-in issuer.
   */
  apiTokenAudience?: string | undefined;
}

export class RoutingIssuer implements Issuer {
  constructor(private readonly o: RoutingIssuerOptions) {}

  async sign(req: SignRequest): Promise<SignedCertificate> {
    if (req.issuerRef?.name === undefined) return this.o.builtIn.sign(this.forBuiltIn(req));
    if (!this.o.certManager) {
      throw new InvalidArgumentError(
        'csi.k8s.cert-driver/issuer-name',
        'cert-manager issuers are not enabled on this driver (CERT_MANAGER_ENABLED=false); remove issuer-name/kind/group to use the built-in issuer',
      );
    }
    return this.o.certManager.sign(req);
  }

  /** The built-in issuer's bundle (cert-manager certificates bring their own CA). */
  caBundle(): Promise<string> {
    return this.o.builtIn.caBundle();
  }

  close(): void {
    this.o.builtIn.close();
    this.o.certManager?.close();
  }

  /**
   * What the built-in issuer sees: no token map and, with cert-manager mode on, the first token that
   * is not for the API server (kubelet's map may hold both).
   */
  private forBuiltIn(req: SignRequest): SignRequest {
    const { tokens, ...rest } = req;
    const api = this.o.apiTokenAudience;
    if (!tokens || api === undefined) return rest;
    return { ...rest, token: Object.entries(tokens).find(([aud]) => aud !== api)?.[1] };
  }
}
