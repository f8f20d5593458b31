import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApproverController } from './approver-controller.js';
import type { CertificateRequest } from './certificate-request.js';
import { parseKeyPolicy, type KeyPolicy } from './key-policy.js';
import {
  ConflictError,
  type CertificateRequestApi,
  type EventRecorder,
  type WatchPhase,
} from './kube-adapters.js';
import type { ApproverPolicy } from './rules.js';
import { testCr, testCsr } from './testing.js';

const ISSUER = { name: 'spiffe-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' };
const POLICY: ApproverPolicy = {
  issuerRef: ISSUER,
  trustDomain: 'example.org',
  durationSeconds: 3600,
  keys: parseKeyPolicy('ECDSA-256') as KeyPolicy,
};

/** An in-memory CertificateRequest API: one watch, status writes checked against resourceVersion. */
class FakeApi implements CertificateRequestApi {
  objects = new Map<string, CertificateRequest>();
  writes: CertificateRequest[] = [];
  private onEvent: ((phase: WatchPhase, obj: CertificateRequest) => void) | undefined;
  private rv = 0;

  put(cr: CertificateRequest, phase: WatchPhase = 'ADDED'): CertificateRequest {
    const stored = { ...cr, metadata: { ...cr.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    this.onEvent?.(phase, stored);
    return stored;
  }
  async list() {
    return { items: [...this.objects.values()], resourceVersion: String(this.rv) };
  }
  async watch(_rv: string, onEvent: (phase: WatchPhase, obj: CertificateRequest) => void) {
    this.onEvent = onEvent;
    return { abort: () => undefined };
  }
  async updateStatus(cr: CertificateRequest) {
    const current = this.objects.get(`${cr.metadata?.namespace}/${cr.metadata?.name}`);
    if (current?.metadata?.resourceVersion !== cr.metadata?.resourceVersion)
      throw new ConflictError('conflict');
    this.writes.push(cr);
    return this.put(cr, 'MODIFIED');
  }
}

async function setup() {
  const api = new FakeApi();
  const events: string[] = [];
  const recorder: EventRecorder = {
    record: async (cr, type, reason) => void events.push(`${cr.metadata?.name} ${type} ${reason}`),
  };
  const controller = new ApproverController({
    api,
    events: recorder,
    policy: POLICY,
    logger: pino({ level: 'silent' }),
  });
  const csrPem = await testCsr({ sans: [{ type: 'uri', value: 'spiffe://example.org/ns/shop/sa/web' }] });
  const cr = (name: string, duration = '1h') =>
    testCr({
      namespace: 'shop',
      name,
      csrPem,
      issuerRef: ISSUER,
      username: 'system:serviceaccount:shop:web',
      duration,
    });
  controller.start();
  await flush();
  return { api, events, controller, cr };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('ApproverController', () => {
  it('decides nothing until it leads, then everything cached and everything new', async () => {
    const { api, events, controller, cr } = await setup();
    api.put(cr('a'));
    await flush();
    expect(api.writes).toEqual([]);
    controller.setLeader(true);
    await flush();
    api.put(cr('b', '2h'));
    await flush();
    expect(api.writes.map((w) => [w.metadata?.name, w.status?.conditions?.[0]?.type])).toEqual([
      ['a', 'Approved'],
      ['b', 'Denied'],
    ]);
    expect(events).toEqual(['a Normal Approved', 'b Warning Denied']);
    await controller.stop();
  });

  it('decides a burst with several workers, each request once', async () => {
    const { api, events, controller, cr } = await setup();
    controller.setLeader(true);
    for (let i = 0; i < 30; i++) api.put(cr(`r${i}`, i % 2 ? '2h' : '1h'));
    await flush();
    const names = api.writes.map((w) => w.metadata?.name);
    expect(new Set(names).size).toBe(30);
    expect(names).toHaveLength(30);
    expect(events.filter((e) => e.endsWith('Denied'))).toHaveLength(15);
    await controller.stop();
  });

  it('stops deciding at once when leadership is lost', async () => {
    const { api, controller, cr } = await setup();
    controller.setLeader(true);
    controller.setLeader(false);
    api.put(cr('a'));
    await flush();
    expect(api.writes).toEqual([]);
    await controller.stop();
  });

  it('after a conflict decides the newer version, and leaves it alone when someone decided meanwhile', async () => {
    const { api, controller, cr } = await setup();
    const stale = api.put(cr('a', '2h'));
    await flush();
    // Someone approves it by hand; the approver's cache still has the older version.
    api.objects.set('shop/a', {
      ...stale,
      metadata: { ...stale.metadata, resourceVersion: '99' },
      status: { conditions: [{ type: 'Approved', status: 'True', reason: 'cmctl' }] },
    });
    controller.setLeader(true);
    await flush();
    expect(api.writes).toEqual([]); // the write conflicted
    api.put(api.objects.get('shop/a')!, 'MODIFIED'); // the watch brings the new version
    await flush();
    expect(api.writes).toEqual([]);
    expect(api.objects.get('shop/a')?.status?.conditions).toEqual([
      { type: 'Approved', status: 'True', reason: 'cmctl' },
    ]);
    await controller.stop();
  });
});
