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
  tokens: { '': 'api-token', 'csi.k8s.cert-driver': 'issuer-token' },
};
const ISSUER_AUD = 'csi.k8s.cert-driver';
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
      issuerTokenAudience: ISSUER_AUD,
      apiTokenAudience: '',
    });
    expect((await r.sign({ ...base, issuerRef })).serialHex).toBe(want);
  });

  // kubelet's JSON map lists the API-server token ("") first; a third audience (another driver's,
  // a vault's) is in the same map. Order must not matter, and only the right one goes anywhere.
  const orders: [string, Record<string, string>][] = [
    ['API token first', { '': 'api-token', [ISSUER_AUD]: 'issuer-token', vault: 'vault-token' }],
    ['issuer token first', { [ISSUER_AUD]: 'issuer-token', vault: 'vault-token', '': 'api-token' }],
    ['other audience first', { vault: 'vault-token', '': 'api-token', [ISSUER_AUD]: 'issuer-token' }],
  ];

  it.each(orders)(
    'outside cert-manager mode gives the built-in issuer only the issuer-audience token (%s)',
    async (_name, tokens) => {
      const builtIn = recording('built-in');
      await new RoutingIssuer({ builtIn, issuerTokenAudience: ISSUER_AUD }).sign({ ...base, tokens });
      expect(builtIn.seen[0]?.token).toBe('issuer-token');
      expect(builtIn.seen[0]?.tokens).toBeUndefined();
    },
  );

  it.each(orders)(
    'in cert-manager mode gives cert-manager only the API token and the built-in issuer only its own (%s)',
    async (_name, tokens) => {
      const builtIn = recording('built-in');
      const cm = recording('cert-manager');
      const r = new RoutingIssuer({
        builtIn,
        certManager: cm,
        issuerTokenAudience: ISSUER_AUD,
        apiTokenAudience: '',
      });
      await r.sign({ ...base, tokens });
      await r.sign({ ...base, tokens, issuerRef: CM });
      expect(builtIn.seen[0]?.token).toBe('issuer-token');
      expect(builtIn.seen[0]?.tokens).toBeUndefined();
      expect(cm.seen[0]?.tokens).toEqual({ '': 'api-token' });
      expect(cm.seen[0]?.token).toBeUndefined();
    },
  );

  it.each<{ name: string; tokens: Record<string, string> | undefined; token?: string }>([
    { name: 'only the API token', tokens: { '': 'api-token' } },
    { name: 'only another audience', tokens: { vault: 'vault-token' } },
    { name: 'an empty issuer-audience token', tokens: { [ISSUER_AUD]: '', '': 'api-token' } },
    { name: 'no token map', tokens: undefined },
    { name: 'a caller-set token without the map', tokens: undefined, token: 'smuggled' },
  ])('sends the built-in issuer no token when kubelet passed $name', async ({ tokens, token }) => {
    const builtIn = recording('built-in');
    await new RoutingIssuer({ builtIn, issuerTokenAudience: ISSUER_AUD }).sign({ ...base, tokens, token });
    expect(builtIn.seen[0]?.token).toBeUndefined();
    expect(builtIn.seen[0]?.tokens).toBeUndefined();
  });

  it('never matches an inherited key as an audience', async () => {
    const builtIn = recording('built-in');
    await new RoutingIssuer({ builtIn, issuerTokenAudience: 'constructor' }).sign(base);
    expect(builtIn.seen[0]?.token).toBeUndefined();
  });

  it('refuses issuer-name with INVALID_ARGUMENT naming the attribute when cert-manager mode is off', async () => {
    const err: unknown = await new RoutingIssuer({
      builtIn: recording('built-in'),
      issuerTokenAudience: ISSUER_AUD,
    })
      .sign({ ...base, issuerRef: CM })
      .catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe(Code.INVALID_ARGUMENT);
    expect((err as Error).message).toMatch(/issuer-name.*CERT_MANAGER_ENABLED/);
  });

  it("serves the built-in issuer's bundle and closes both", async () => {
    const builtIn = recording('built-in');
    const cm = recording('cert-manager');
    const r = new RoutingIssuer({ builtIn, certManager: cm, issuerTokenAudience: ISSUER_AUD });
    expect(await r.caBundle()).toBe('built-in bundle');
    r.close();
    expect([builtIn.closed, cm.closed]).toEqual([true, true]);
  });
});
