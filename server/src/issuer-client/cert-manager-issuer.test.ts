import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Code, isDomainError } from '../common/errors.js';
import { makeCsr, makeTestCa } from '../issuer/testing/ca-fixtures.js';
import { CertificateAuthority } from '../issuer/certificate-authority.js';
import { DEFAULT_SIGNING_POLICY } from '../issuer/signing-policy.js';
import { signCsr } from '../issuer/signer.js';
import { safeText } from '../common/safe-text.js';
import { CertManagerIssuer, goDuration, outcomeOf } from './cert-manager-issuer.js';
import {
  NODE_LABEL,
  VOLUME_ANNOTATION,
  VOLUME_LABEL,
  labelValue,
  type CertificateRequestView,
  type NewCertificateRequest,
} from './certificate-requests.port.js';
import type { PodEvent } from '../kube/events/pod-events.port.js';
import { CertificateRequestJanitor } from './certificate-request-janitor.js';
import { FakeRequests, FakeUpdates } from './testing.js';
import type { SignRequest } from './issuer.port.js';

const logger = pino({ level: 'silent' });
const VOLUME = `csi-${'ab'.repeat(32)}`;
const POD = { name: 'web-1', namespace: 'apps', uid: '1111-2222', serviceAccount: 'web' };

async function harness(o: { identity?: 'pod' | 'driver'; timeoutMs?: number; watch?: boolean } = {}) {
  const fake = new FakeRequests();
  const updates = o.watch ? new FakeUpdates(fake) : undefined;
  const events: Pick<PodEvent, 'type' | 'reason' | 'message'>[] = [];
  const issuer = new CertManagerIssuer({
    identity: o.identity ?? 'pod',
    tokenAudience: '',
    driver: fake,
    asToken: (token) => fake.as(token),
    events: {
      record: ({ type, reason, message }) => void events.push({ type, reason, message }),
      close: () => Promise.resolve(),
    },
    nodeId: 'node-a',
    timeoutMs: o.timeoutMs ?? 2000,
    logger,
    poll: { firstMs: 5, maxMs: 20 },
    updates,
    watchRecheckMs: 50,
  });
  const ca = await makeTestCa();
  const authority = await CertificateAuthority.load({ certPem: ca.certPem, keyPem: ca.keyPem });
  const { csrPem } = await makeCsr({ dnsNames: ['web-1'] });
  const req: SignRequest = {
    csrPem,
    pod: POD,
    nodeId: 'node-a',
    volumeId: VOLUME,
    durationSeconds: 3600,
    isCA: false,
    usages: ['digital signature', 'server auth'],
    tokens: { '': 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwb2QifQ.c2ln', 'csi.k8s.cert-driver': 'other' },
    issuerRef: { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' },
  };
  const sign = async (cr: { spec: NewCertificateRequest }) => {
    const signed = await signCsr(authority, DEFAULT_SIGNING_POLICY, {
      csrPem: cr.spec.csrPem,
      durationSeconds: 3600,
      isCA: false,
      usages: cr.spec.usages,
      pod: POD,
      nodeId: 'node-a',
      volumeId: VOLUME,
    });
    return { certificate: signed.certificatePem, ca: ca.certPem };
  };
  return { fake, events, issuer, req, ca, sign, updates };
}

const cond = (type: string, status: string, reason?: string, message?: string) => ({
  type,
  status,
  reason,
  message,
});

describe('CertManagerIssuer', () => {
  it('creates the request as the pod, waits for Ready, returns the certificate and CA, deletes the request', async () => {
    const h = await harness();
    const box: { signed?: { certificate: string; ca: string } } = {};
    h.fake.answer = (cr) => {
      const { signed } = box;
      if (!signed) return;
      cr.conditions = [cond('Approved', 'True'), cond('Ready', 'True', 'Issued')];
      cr.certificate = signed.certificate;
      cr.ca = signed.ca;
    };
    const pending = h.issuer.sign(h.req);
    await new Promise((r) => setTimeout(r, 30));
    const [cr] = [...h.fake.objects.values()];
    expect(cr?.spec).toMatchObject({
      namespace: 'apps',
      generateName: 'web-1-',
      owner: { name: 'web-1', uid: '1111-2222' },
      issuerRef: { name: 'ca-issuer', kind: 'Issuer', group: 'cert-manager.io' },
      duration: '1h0m0s',
      isCA: false,
      usages: ['digital signature', 'server auth'],
      username: 'system:serviceaccount:apps:web',
      labels: { [NODE_LABEL]: 'node-a', [VOLUME_LABEL]: labelValue(VOLUME) },
      annotations: { [VOLUME_ANNOTATION]: VOLUME },
    });
    expect(h.fake.tokensUsed).toEqual([h.req.tokens!['']]);
    expect([...h.issuer.inFlight]).toEqual([VOLUME]);
    box.signed = await h.sign(cr!);
    const out = await pending;
    expect(out.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(out.caBundlePem.trim()).toBe(h.ca.certPem.trim());
    expect(out.notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(h.fake.deleted).toHaveLength(1);
    expect(h.issuer.inFlight.size).toBe(0);
    expect(h.events).toEqual([]);
  });

  it.each([
    {
      name: 'Denied',
      conditions: [cond('Denied', 'True', 'PolicyDenied', 'namespace apps may not use ca-issuer')],
      wantCode: Code.PERMISSION_DENIED,
      wantMessage: /denied.*PolicyDenied: namespace apps may not use ca-issuer/,
      wantEvent: 'CertificateRequestDenied',
    },
    {
      name: 'Ready=False Failed',
      conditions: [cond('Approved', 'True'), cond('Ready', 'False', 'Failed', 'CA expired')],
      wantCode: Code.FAILED_PRECONDITION,
      wantMessage: /failed: Failed: CA expired/,
      wantEvent: 'CertificateRequestFailed',
    },
    {
      name: 'InvalidRequest',
      conditions: [cond('InvalidRequest', 'True', 'BadCSR', 'no SANs')],
      wantCode: Code.FAILED_PRECONDITION,
      wantMessage: /failed: BadCSR: no SANs/,
      wantEvent: 'CertificateRequestFailed',
    },
    {
      name: 'no answer in time',
      conditions: [cond('Approved', 'True')],
      wantCode: Code.DEADLINE_EXCEEDED,
      wantMessage: /did not sign CertificateRequest apps\/web-1-1 .* within 0s \(Approved=True\)/,
      wantEvent: 'CertificateRequestTimeout',
    },
  ])('maps $name to its code with a pod Event', async ({ conditions, wantCode, wantMessage, wantEvent }) => {
    const h = await harness({ timeoutMs: 150 });
    h.fake.answer = (cr) => void (cr.conditions = conditions);
    const err: unknown = await h.issuer.sign(h.req).catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe(wantCode);
    expect((err as Error).message).toMatch(wantMessage);
    expect(h.events.map((e) => [e.type, e.reason])).toEqual([['Warning', wantEvent]]);
    expect(h.events[0]?.message).toContain('apps/web-1-1');
    expect(JSON.stringify(h.events)).not.toContain(h.req.tokens!['']);
  });

  it('with a synced watch, follows the request through its events: not one GET', async () => {
    const h = await harness({ watch: true });
    const pending = h.issuer.sign(h.req);
    await new Promise((r) => setTimeout(r, 10));
    const [cr] = [...h.fake.objects.values()];
    const key = `apps/${cr!.name}`;
    h.updates!.emit(key); // ADDED
    await new Promise((r) => setTimeout(r, 10));
    const signed = await h.sign(cr!);
    cr!.conditions = [cond('Approved', 'True'), cond('Ready', 'True', 'Issued')];
    cr!.certificate = signed.certificate;
    cr!.ca = signed.ca;
    h.updates!.emit(key); // MODIFIED: Ready
    const out = await pending;
    expect(out.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(h.fake.calls.gets).toBe(0);
    expect(h.fake.deleted).toEqual([key]);
  });

  it('with a stalled watch, falls back to GET after the recheck interval', async () => {
    const h = await harness({ watch: true });
    h.updates!.stalled = true;
    const box: { signed?: { certificate: string; ca: string } } = {};
    h.fake.answer = (cr) => {
      if (!box.signed) return;
      cr.conditions = [cond('Ready', 'True', 'Issued')];
      cr.certificate = box.signed.certificate;
      cr.ca = box.signed.ca;
    };
    const pending = h.issuer.sign(h.req);
    await new Promise((r) => setTimeout(r, 10));
    box.signed = await h.sign([...h.fake.objects.values()][0]!);
    const out = await pending;
    expect(out.certificatePem).toContain('BEGIN CERTIFICATE');
    expect(h.fake.calls.gets).toBeGreaterThan(0);
  });

  it('deletes a timed-out request but keeps denied ones for the cleanup', async () => {
    const t = await harness({ timeoutMs: 50 });
    await t.issuer.sign(t.req).catch(() => undefined);
    expect(t.fake.deleted).toEqual(['apps/web-1-1']);
    const d = await harness();
    d.fake.answer = (cr) => void (cr.conditions = [cond('Denied', 'True', 'No')]);
    await d.issuer.sign(d.req).catch(() => undefined);
    expect(d.fake.deleted).toEqual([]);
  });

  it('retries an unreachable API server while waiting, and reports UNAVAILABLE when it stays down', async () => {
    const h = await harness({ timeoutMs: 100 });
    h.fake.failGets = 1_000_000;
    const err: unknown = await h.issuer.sign(h.req).catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe(Code.UNAVAILABLE);
  });

  it('refuses pod identity without a token for the API audience (FAILED_PRECONDITION naming tokenRequests)', async () => {
    const h = await harness();
    const err: unknown = await h.issuer
      .sign({ ...h.req, tokens: { 'csi.k8s.cert-driver': 'x' } })
      .catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe(Code.FAILED_PRECONDITION);
    expect((err as Error).message).toMatch(/tokenRequests/);
    expect(h.fake.objects.size).toBe(0);
  });

  it('uses the driver account and no username in driver identity', async () => {
    const h = await harness({ identity: 'driver', timeoutMs: 30 });
    await h.issuer.sign({ ...h.req, tokens: undefined }).catch(() => undefined);
    expect(h.fake.tokensUsed).toEqual([]);
    expect(h.fake.deleted).toHaveLength(1);
  });
});

describe('outcomeOf', () => {
  const view = (conditions: ReturnType<typeof cond>[], certificate?: string): CertificateRequestView => ({
    namespace: 'a',
    name: 'b',
    labels: {},
    annotations: {},
    conditions,
    certificate,
  });
  it.each([
    { name: 'no conditions', v: view([]), want: undefined },
    { name: 'approved only', v: view([cond('Approved', 'True')]), want: undefined },
    { name: 'Ready=False Pending', v: view([cond('Ready', 'False', 'Pending')]), want: undefined },
    { name: 'Ready=True without certificate', v: view([cond('Ready', 'True')]), want: undefined },
    { name: 'Ready=True', v: view([cond('Ready', 'True')], 'PEM'), want: 'ready' },
    {
      name: 'Denied wins over Ready',
      v: view([cond('Ready', 'True'), cond('Denied', 'True')], 'PEM'),
      want: 'denied',
    },
    { name: 'Ready=False Denied', v: view([cond('Ready', 'False', 'Denied')]), want: 'failed' },
  ])('$name → $want', ({ v, want }) => {
    expect(outcomeOf(v)?.kind).toBe(want);
  });
});

describe('helpers', () => {
  it.each([
    { s: 3600, want: '1h0m0s' },
    { s: 604800, want: '168h0m0s' },
    { s: 90, want: '1m30s' },
    { s: 59, want: '59s' },
  ])('goDuration($s) = $want', ({ s, want }) => expect(goDuration(s)).toBe(want));

  it.each([
    { v: 'node-a', want: 'node-a' },
    { v: VOLUME, want: /^[0-9a-f]{63}$/ },
    { v: 'Bad Value!', want: /^[0-9a-f]{63}$/ },
  ])('labelValue($v)', ({ v, want }) => {
    const got = labelValue(v);
    if (typeof want === 'string') expect(got).toBe(want);
    else expect(got).toMatch(want);
    expect(labelValue(v)).toBe(got);
  });

  it('safeText cuts PEM blocks, tokens and control characters', () => {
    const text =
      'bad\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig end';
    const out = safeText(text);
    expect(out).not.toMatch(/MIIE|eyJhbGci|\n/);
    expect(out).toContain('[PEM removed]');
    expect(out).toContain('[token removed]');
    expect(safeText('x'.repeat(5000))).toHaveLength(1024);
  });
});

describe('CertificateRequestJanitor', () => {
  it('deletes requests of gone volumes and old ones, never in-flight ones or other nodes', async () => {
    const fake = new FakeRequests();
    const mk = async (node: string, volume: string, ageMs: number) => {
      const { name } = await fake.create({
        namespace: 'apps',
        generateName: 'p-',
        labels: { [NODE_LABEL]: labelValue(node), [VOLUME_LABEL]: labelValue(volume) },
        annotations: { [VOLUME_ANNOTATION]: volume },
        owner: { name: 'p', uid: 'u' },
        csrPem: '',
        issuerRef: { name: 'i', kind: 'Issuer', group: 'cert-manager.io' },
        duration: '1h0m0s',
        isCA: false,
        usages: [],
      });
      fake.objects.get(`apps/${name}`)!.creationTimestamp = new Date(Date.now() - ageMs);
      return `apps/${name}`;
    };
    const live = await mk('node-a', 'vol-live', 0);
    const gone = await mk('node-a', 'vol-gone', 0);
    const old = await mk('node-a', 'vol-live', 120_000);
    const inFlightGone = await mk('node-a', 'vol-gone-2', 0);
    const otherNode = await mk('node-b', 'vol-gone', 999_999);
    const janitor = new CertificateRequestJanitor({
      client: fake,
      nodeId: 'node-a',
      volumeIds: () => Promise.resolve(new Set(['vol-live'])),
      inFlight: new Set(['vol-gone-2']),
      maxAgeMs: 60_000,
      intervalMs: 60_000,
      logger,
    });
    expect(await janitor.runOnce()).toBe(2);
    expect(fake.deleted.sort()).toEqual([gone, old].sort());
    expect([...fake.objects.keys()].sort()).toEqual([live, inFlightGone, otherNode].sort());
  });
});
