import { describe, expect, it } from 'vitest';
import { Code, isDomainError } from '../common/errors.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';
import { RoutingIssuer } from './routing-issuer.js';

/** An issuer that records what it was asked and answers with its own name as the serial. */
function recording(name: string): Issuer & { seen: SignRequest[]; closed: boolean } {
  const seen: SignRequest[] = [];
  return {
    seen,
    closed: false,
    sign(req) {
      seen.push(req);
      return Promise.resolve({ serialHex: name } as SignedCertificate);
    },
    caBundle: () => Promise.resolve(`${name} bundle`),
    close() {
      this.closed = true;
    },
  };
}

const base: SignRequest = {
  csrPem: 'csr',
  pod: { name: 'p', namespace: 'n', uid: 'u', serviceAccount: 's' },
  nodeId: 'node',
  volumeId: 'v',
  durationSeconds: 3600,
  isCA: false,
  usages: [],
  token: 'api-token',
  tokens: { '': 'api-token', 'csi.k8s.cert-driver': 'issuer-token' },
};
const CM = { name: 'ca', kind: 'Issuer', group: 'cert-manager.io' };

describe('RoutingIssuer', () => {
  it.each([
    { name: 'no issuerRef', issuerRef: undefined, want: 'built-in' },
    {
      name: 'an issuerRef without a name',
      issuerRef: { kind: 'Issuer', group: 'cert-manager.io' },
      want: 'built-in',
    },
    { name: 'an issuerRef with a name', issuerRef: CM, want: 'cert-manager' },
  ])('routes $name to $want', async ({ issuerRef, want }) => {
    const r = new RoutingIssuer({
      builtIn: recording('built-in'),
      certManager: recording('cert-manager'),
      apiTokenAudience: '',
    });
    expect((await r.sign({ ...base, issuerRef })).serialHex).toBe(want);
  });

  it('gives cert-manager every token, and the built-in issuer never the API token', async () => {
    const builtIn = recording('built-in');
    const cm = recording('cert-manager');
    const r = new RoutingIssuer({ builtIn, certManager: cm, apiTokenAudience: '' });
    await r.sign(base);
    await r.sign({ ...base, issuerRef: CM });
    expect(builtIn.seen[0]?.token).toBe('issuer-token');
    expect(builtIn.seen[0]?.tokens).toBeUndefined();
    expect(cm.seen[0]?.tokens).toEqual(base.tokens);
  });

  it('leaves the token alone when cert-manager mode is off', async () => {
    const builtIn = recording('built-in');
    await new RoutingIssuer({ builtIn }).sign(base);
    expect(builtIn.seen[0]?.token).toBe('api-token');
  });

  it('refuses issuer-name with INVALID_ARGUMENT naming the attribute when cert-manager mode is off', async () => {
    const err: unknown = await new RoutingIssuer({ builtIn: recording('built-in') })
      .sign({ ...base, issuerRef: CM })
      .catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe(Code.INVALID_ARGUMENT);
    expect((err as Error).message).toMatch(/issuer-name.*CERT_MANAGER_ENABLED/);
  });

  it("serves the built-in issuer's bundle and closes both", async () => {
    const builtIn = recording('built-in');
    const cm = recording('cert-manager');
    const r = new RoutingIssuer({ builtIn, certManager: cm });
    expect(await r.caBundle()).toBe('built-in bundle');
    r.close();
    expect([builtIn.closed, cm.closed]).toEqual([true, true]);
  });
});
