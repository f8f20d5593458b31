/**
 * Which token leaves the node, and from where it is read, seen from outside: the node and the issuer
 * run as processes, a recording proxy sits between them (CERT_SERVICE_ADDR), and a kubelet-like
 * client publishes over the CSI socket with kubelet's token map in the volume context
 * (serviceAccountTokenInSecrets unset or false) or in the request's secrets (true).
 */
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, PREFIX, codeName } from './support/harness.js';
import { IssuerProxy } from './support/issuer-proxy.js';
import { waitFor } from './support/wait.js';

const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
const ISSUER_AUDIENCE = 'csi.k8s.cert-driver';
/** Renewal about 10 s after issue, so a republished token is used within the test. */
const SHORT = { [`${PREFIX}duration`]: '1m', [`${PREFIX}renew-before`]: '50s' };

let h: Harness;
let proxy: IssuerProxy | undefined;
const tokens: string[] = [];

/** A JWT-shaped token, unique per call, recorded so the logs can be searched for it. */
function token(label: string): string {
  const t = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(`${label}-${tokens.length}-${Date.now()}`).toString('base64url')}.sig`;
  tokens.push(t);
  return t;
}

/** kubelet's map: the API-server token ("") first, as kubelet's JSON has it, then the others. */
function tokenMap(byAudience: Record<string, string>): string {
  const exp = new Date(Date.now() + 3_600_000).toISOString();
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(byAudience).map(([aud, t]) => [aud, { token: t, expirationTimestamp: exp }]),
    ),
  );
}

beforeAll(async () => {
  h = await Harness.start({
    suite: 'tokens',
    issuerFront: async (addr) => {
      proxy = await IssuerProxy.start(addr);
      return proxy.address;
    },
  });
}, 120_000);

afterAll(async () => {
  await h?.close();
  await proxy?.close();
});

describe.each([
  { placement: 'volume context', inSecrets: false },
  { placement: 'secrets', inSecrets: true },
])('tokens in the $placement', ({ inSecrets }) => {
  it('the issuer gets only the issuer-audience token, and after a republish the fresh one', async () => {
    const vol = h.newVolume();
    const first = { '': token('api'), [ISSUER_AUDIENCE]: token('issuer'), vault: token('vault') };
    const put = (map: Record<string, string>) =>
      inSecrets
        ? { attributes: SHORT, secrets: { [TOKENS_KEY]: tokenMap(map) } }
        : { attributes: { ...SHORT, [TOKENS_KEY]: tokenMap(map) }, secrets: undefined };
    const one = put(first);
    const r = await h.publish(vol, one.attributes, one.secrets ? { secrets: one.secrets } : {});
    expect(codeName(r.code), r.details).toBe('OK');
    expect(proxy!.tokensFor(vol.volumeId)).toEqual([first[ISSUER_AUDIENCE]]);

    // kubelet's periodic republish brings fresh tokens; the next renewal must carry the fresh one.
    const fresh = { '': token('api'), [ISSUER_AUDIENCE]: token('issuer'), vault: token('vault') };
    const two = put(fresh);
    const again = await h.publish(vol, two.attributes, two.secrets ? { secrets: two.secrets } : {});
    expect(codeName(again.code), again.details).toBe('OK');
    const serial = h.readState(vol.volumeId).certificate?.serialHex;
    await waitFor(
      'the renewal',
      () => (h.readState(vol.volumeId).certificate?.serialHex !== serial ? true : undefined),
      { timeoutMs: 30_000 },
    );
    expect(proxy!.tokensFor(vol.volumeId)).toEqual([first[ISSUER_AUDIENCE], fresh[ISSUER_AUDIENCE]]);
    expect((await h.unpublish(vol)).code).toBe(0);
  }, 60_000);
});

it('prefers the map in secrets when the volume context holds one too', async () => {
  const vol = h.newVolume();
  const inContext = token('issuer');
  const inSecrets = token('issuer');
  const r = await h.publish(
    vol,
    { [TOKENS_KEY]: tokenMap({ [ISSUER_AUDIENCE]: inContext }) },
    { secrets: { [TOKENS_KEY]: tokenMap({ [ISSUER_AUDIENCE]: inSecrets }) } },
  );
  expect(codeName(r.code), r.details).toBe('OK');
  expect(proxy!.tokensFor(vol.volumeId)).toEqual([inSecrets]);
});

it('sends no token at all when the map has none for the issuer audience', async () => {
  const vol = h.newVolume();
  const r = await h.publish(
    vol,
    {},
    { secrets: { [TOKENS_KEY]: tokenMap({ '': token('api'), vault: token('v') }) } },
  );
  expect(codeName(r.code), r.details).toBe('OK'); // ISSUER_AUTH=none signs without one
  expect(proxy!.tokensFor(vol.volumeId)).toEqual(['']);
});

it('never logs a token; a state file (0600) keeps only the issuer-audience token, under `tokens`', () => {
  const log = h.node!.logText();
  expect(log).toContain('volume published');
  for (const t of tokens) {
    expect(log).not.toContain(t);
    expect(log).not.toContain(t.split('.')[1]!);
  }
  const files = h.stateFiles().filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const id = f.replace(/\.json$/, '');
    expect(statSync(h.stateFile(id)).mode & 0o777).toBe(0o600);
    const state = h.readState(id) as unknown as { tokens?: Record<string, { token: string }> };
    // ADR 22: only the issuer's audience is kept, and nowhere else in the state.
    expect(Object.keys(state.tokens ?? {}).filter((a) => a !== ISSUER_AUDIENCE)).toEqual([]);
    const rest = JSON.stringify({ ...state, tokens: undefined });
    for (const t of tokens) expect(rest).not.toContain(t);
  }
});
