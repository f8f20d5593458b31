import { mkdtemp, rm, stat } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InProcessIssuer } from '../../test/support/in-process-issuer.js';
import { numberedPublishRequest } from '../../test/support/publish-requests.js';
import { toDetails, toSummary } from '../api/volume-view.js';
import { UnauthenticatedError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { CheckedIssuer } from '../issuer-client/testing.js';
import { FakePlatform } from '../platform/fake-platform.js';
import { generateKey } from '../pki/keys.js';
import { FileStateStore } from './file-state-store.js';
import { jwtExpiry, tokensToKeep, usableKeptTokens } from './kept-tokens.js';
import { VolumeManager } from './volume-manager.js';

const AUD = 'csi.k8s.cert-driver';
/** An unsigned JWT with `exp` (the node never verifies tokens; the issuer does). */
const jwt = (expSeconds: number, sub = 'system:serviceaccount:default:web'): string =>
  ['{"alg":"none"}', JSON.stringify({ sub, exp: expSeconds })]
    .map((p) => Buffer.from(p).toString('base64url'))
    .join('.') + '.sig';
const inSeconds = (s: number): number => Math.floor(Date.now() / 1000) + s;

describe('tokensToKeep, usableKeptTokens', () => {
  it.each<{ name: string; tokens: Record<string, string> | undefined; want: string[] | undefined }>([
    { name: 'keeps only the kept audiences', tokens: { [AUD]: 'a', '': 'api', other: 'o' }, want: [AUD] },
    { name: 'nothing to keep', tokens: { other: 'o' }, want: undefined },
    { name: 'no tokens', tokens: undefined, want: undefined },
  ])('$name', ({ tokens, want }) => {
    const kept = tokensToKeep(tokens, [AUD]);
    expect(kept === undefined ? undefined : Object.keys(kept)).toEqual(want);
  });

  it("records a JWT's exp, and none for a token that is not a JWT", () => {
    const exp = inSeconds(3600);
    expect(tokensToKeep({ [AUD]: jwt(exp) }, [AUD])?.[AUD]?.expiresAt).toBe(
      new Date(exp * 1000).toISOString(),
    );
    expect(jwtExpiry('opaque')).toBeUndefined();
    expect(jwtExpiry('a.%%%.c')).toBeUndefined();
  });

  it('offers unexpired tokens and names the expired ones', () => {
    const now = Date.now();
    const fresh = { token: 'f', expiresAt: new Date(now + 60_000).toISOString() };
    const stale = { token: 's', expiresAt: new Date(now - 1).toISOString() };
    expect(usableKeptTokens({ [AUD]: fresh }, now)).toEqual({ tokens: { [AUD]: 'f' }, expired: [] });
    expect(usableKeptTokens({ [AUD]: stale }, now)).toEqual({
      tokens: undefined,
      expired: [{ audience: AUD, expiresAt: stale.expiresAt }],
    });
    expect(usableKeptTokens({ [AUD]: { token: 'opaque' } }, now).tokens).toEqual({ [AUD]: 'opaque' });
  });
});

describe('tokens kept with the volume state across a node restart', () => {
  let dir: string;
  let issuer: CheckedIssuer;
  /** The token of each signature the issuer saw. */
  let seen: (string | undefined)[];
  let logged: string;
  /** A node process: a fresh manager (empty memory) over the same state directory. */
  const node = (): { manager: VolumeManager; store: FileStateStore } => {
    const out = new PassThrough();
    out.on('data', (c: Buffer) => (logged += c.toString()));
    const store = new FileStateStore(join(dir, 'state'));
    const manager = new VolumeManager({
      platform: new FakePlatform(),
      issuer,
      store,
      keys: { get: (k) => generateKey(k) },
      logger: createLogger({ level: 'debug', role: 'test', destination: out }),
      nodeId: 'n1',
      clusterDomain: 'cluster.local',
      volumeSizeBytes: 1 << 20,
      keptTokenAudiences: [AUD],
    });
    return { manager, store };
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kept-tokens-'));
    seen = [];
    // The in-process issuer that refuses, as ISSUER_AUTH=kubernetes does, a request without its token.
    issuer = new CheckedIssuer(await InProcessIssuer.create(), (req) => {
      const token = req.tokens?.[AUD];
      seen.push(token);
      if (token === undefined)
        throw new UnauthenticatedError(`token: a service-account token for audience "${AUD}" is required`);
    });
    logged = '';
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips token and expiry through the 0600 state file; the API and the log never show it', async () => {
    const token = jwt(inSeconds(3600));
    const { manager, store } = node();
    await manager.publish({ ...numberedPublishRequest(1), tokens: { [AUD]: token, '': 'api-token' } });

    const state = await store.get('vol-1');
    expect(state?.tokens).toEqual({ [AUD]: { token, expiresAt: jwtExpiry(token)!.toISOString() } });
    expect((await stat(join(dir, 'state', 'vol-1.json'))).mode & 0o777).toBe(0o600);

    createLogger({ level: 'info', role: 'test', destination: logSink() }).info({ state }, 'a state');
    expect(logged).not.toContain(token.split('.')[1]);
    expect(logged).toContain('[REDACTED]');
    const view = JSON.stringify([
      toSummary(state!, Date.now(), false),
      toDetails(state!, Date.now(), false, { error: 'x' }),
    ]);
    expect(view).not.toContain(token.split('.')[1]);
  });

  it('after a restart a renewal sends the kept token; an expired one is not sent and the error says why', async () => {
    const fresh = jwt(inSeconds(3600));
    await node().manager.publish({ ...numberedPublishRequest(1), tokens: { [AUD]: fresh } });
    await node().manager.publish({ ...numberedPublishRequest(2), tokens: { [AUD]: jwt(inSeconds(-10)) } });

    const restarted = node();
    for (const id of ['vol-1', 'vol-2']) {
      const s = (await restarted.store.get(id))!;
      const renewal = restarted.manager.lifecycle.issue({
        volumeId: id,
        spec: s.spec,
        pod: s.pod,
        kept: s.tokens,
      });
      if (id === 'vol-1') await expect(renewal).resolves.toMatchObject({ signed: expect.anything() });
      else await expect(renewal).rejects.toThrow(/expired at .*renewal waits for kubelet's next republish/);
    }
    expect(seen.slice(-2)).toEqual([fresh, undefined]);
  });

  it("a republish with new tokens replaces the kept ones; kubelet's cached ones cost no write", async () => {
    const { manager, store } = node();
    const first = jwt(inSeconds(3600));
    await manager.publish({ ...numberedPublishRequest(1), tokens: { [AUD]: first } });
    const before = (await stat(join(dir, 'state', 'vol-1.json'))).mtimeMs;
    await manager.publish({ ...numberedPublishRequest(1), tokens: { [AUD]: first } });
    expect((await stat(join(dir, 'state', 'vol-1.json'))).mtimeMs).toBe(before);
    const second = jwt(inSeconds(7200), 'system:serviceaccount:default:web2');
    await manager.publish({ ...numberedPublishRequest(1), tokens: { [AUD]: second } });
    expect((await store.get('vol-1'))?.tokens?.[AUD]?.token).toBe(second);
  });

  function logSink(): PassThrough {
    const out = new PassThrough();
    out.on('data', (c: Buffer) => (logged += c.toString()));
    return out;
  }
});
