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
  /** ISSUER_TOKEN_AUDIENCE: the key of kubelet's token map whose token (only) the built-in issuer gets. */
  issuerTokenAudience: string;
  /**
   * CERT_MANAGER_TOKEN_AUDIENCE: the key of the pod's API-server token, which lets its holder act as
   * the pod against the API server. Only cert-manager mode gets it (to create the pod's
   * CertificateRequest); undefined = cert-manager mode is off and no issuer gets it.
   */
  apiTokenAudience?: string | undefined;
}

/**
 * The one place that decides which of kubelet's tokens goes where (docs/security.md, "Which token
 * goes where"): the built-in issuer gets the token of ISSUER_TOKEN_AUDIENCE and nothing else,
 * cert-manager mode the API-server token and nothing else; a token of any other audience goes
 * nowhere. A missing token is simply absent: the issuer decides whether it needs one.
 */

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
    return this.o.certManager.sign(this.forCertManager(req));
  }

  /** The built-in issuer's bundle (cert-manager certificates bring their own CA). */
  caBundle(): Promise<string> {
    return this.o.builtIn.caBundle();
  }

  close(): void {
    this.o.builtIn.close();
    this.o.certManager?.close();
  }

  /** What the built-in issuer sees: no token map, only the token of its own audience. */
  private forBuiltIn(req: SignRequest): SignRequest {
    const { tokens, token: _ignored, ...rest } = req;
    const token = pick(tokens, this.o.issuerTokenAudience);
    return token === undefined ? rest : { ...rest, token };
  }

  /** What cert-manager mode sees: a token map holding the API-server token only. */
  private forCertManager(req: SignRequest): SignRequest {
    const { tokens, token: _ignored, ...rest } = req;
    const api = this.o.apiTokenAudience;
    const token = api === undefined ? undefined : pick(tokens, api);
    return token === undefined ? rest : { ...rest, tokens: { [api!]: token } };
  }
}

/** The token of exactly `audience` (own property: "__proto__" or "constructor" never match). */
function pick(tokens: Readonly<Record<string, string>> | undefined, audience: string): string | undefined {
  if (!tokens || !Object.prototype.hasOwnProperty.call(tokens, audience)) return undefined;
  const t = tokens[audience];
  return typeof t === 'string' && t !== '' ? t : undefined;
}
