/**
 * TEST FAKE: plays cert-manager's CA issuer (and optionally its approver) against the real
 * kube-apiserver, since cert-manager cannot run here. It polls the CertificateRequests that name its
 * issuerRef and, through the status subresource as the admin:
 *   - approves new ones when `autoApprove` is on (or denies them when `decide` says so);
 *   - signs Approved ones with the test CA, using the project's signer (server/src/issuer), and sets
 *     Ready=True with status.certificate and status.ca;
 *   - or marks them Ready=False/Failed, or approves them and never signs (`ignore`), when `decide`
 *     says so.
 * Not product code; it exists only so the driver under test talks to a real API.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the test CA signs with the product's signer, as the brief asks
import {
  CertificateAuthority,
  CLOCK_SKEW_MS,
  DEFAULT_SIGNING_POLICY,
  signCsr,
} from '../../server/src/issuer/index.js';

/** How far the signer back-dates notBefore. */
export { CLOCK_SKEW_MS };
import { sleep } from '../support/wait.js';
import type { TestCluster } from './cluster.js';
import { CM_GROUP, CM_PLURAL, CM_VERSION, type CertificateRequestObject } from './cert-manager-fixtures.js';

export type Decision =
  | { action: 'sign' }
  | { action: 'deny'; reason: string; message: string }
  | { action: 'fail'; message: string }
  | { action: 'ignore' };

export interface FakeSignerOptions {
  cluster: TestCluster;
  issuerRef: { name: string; kind: string; group: string };
  caCertPem: string;
  caKeyPem: string;
  /** Approve (or deny, per `decide`) requests nobody has approved yet. Default true. */
  autoApprove?: boolean;
  /** What to do with one request; default: sign. Called once per request. */
  decide?: (cr: CertificateRequestObject) => Decision;
  intervalMs?: number;
}

/** Seconds of a Go duration such as "1h0m0s", "90s" or "168h". */
export function goDurationSeconds(text: string): number {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$/.exec(text);
  if (!m || text === '') throw new Error(`not a Go duration: ${text}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Math.floor(Number(m[3] ?? 0));
}

export class FakeCertManagerSigner {
  /** `namespace/name` of every request it signed, denied or failed. */
  readonly handled = new Map<string, Decision['action']>();
  /** Lists of every CertificateRequest it sent so far (one per poll), for benchmarks that subtract its load. */
  polls = 0;
  private readonly api: CustomObjectsApi;
  private readonly decisions = new Map<string, Decision>();
  private stopped = false;
  private loop: Promise<void> | undefined;
  private ca: CertificateAuthority | undefined;
  lastError: unknown;

  constructor(private readonly o: FakeSignerOptions) {
    this.api = o.cluster.cp.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async start(): Promise<this> {
    this.ca = await CertificateAuthority.load({ certPem: this.o.caCertPem, keyPem: this.o.caKeyPem });
    this.loop = this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.polls++;
        const list = (await this.api.listClusterCustomObject({
          group: CM_GROUP,
          version: CM_VERSION,
          plural: CM_PLURAL,
        })) as { items: CertificateRequestObject[] };
        for (const cr of list.items) if (this.mine(cr)) await this.step(cr);
      } catch (e) {
        this.lastError = e;
      }
      await sleep(this.o.intervalMs ?? 100);
    }
  }

  private mine(cr: CertificateRequestObject): boolean {
    const ref = cr.spec.issuerRef;
    return (
      ref.name === this.o.issuerRef.name &&
      (ref.kind ?? 'Issuer') === this.o.issuerRef.kind &&
      (ref.group ?? 'cert-manager.io') === this.o.issuerRef.group
    );
  }

  private decision(cr: CertificateRequestObject): Decision {
    const key = `${cr.metadata!.namespace}/${cr.metadata!.name}`;
    let d = this.decisions.get(key);
    if (!d) {
      d = this.o.decide?.(cr) ?? { action: 'sign' };
      this.decisions.set(key, d);
    }
    return d;
  }

  private async step(cr: CertificateRequestObject): Promise<void> {
    const conditions = cr.status?.conditions ?? [];
    const has = (type: string, status = 'True') =>
      conditions.some((c) => c.type === type && c.status === status);
    if (has('Ready') || has('Denied') || has('Ready', 'False')) return;
    const key = `${cr.metadata!.namespace}/${cr.metadata!.name}`;
    const d = this.decision(cr);
    const now = new Date().toISOString();
    const cond = (type: string, status: string, reason: string, message: string) => ({
      type,
      status,
      reason,
      message,
      lastTransitionTime: now,
    });
    if (!has('Approved')) {
      if (this.o.autoApprove === false) return;
      const c =
        d.action === 'deny'
          ? cond('Denied', 'True', d.reason, d.message)
          : cond('Approved', 'True', 'fake-approver', 'approved by the test fake');
      await this.writeStatus(cr, { ...cr.status, conditions: [...conditions, c] });
      if (d.action === 'deny') this.handled.set(key, 'deny');
      return;
    }
    if (d.action === 'ignore') return; // approved, never signed: cert-manager's issuer is stuck
    if (d.action === 'fail') {
      await this.writeStatus(cr, {
        ...cr.status,
        failureTime: now,
        conditions: [...conditions, cond('Ready', 'False', 'Failed', d.message)],
      });
      this.handled.set(key, 'fail');
      return;
    }
    if (d.action !== 'sign') return;
    const signed = await signCsr(
      this.ca!,
      { ...DEFAULT_SIGNING_POLICY, allowCA: true },
      {
        csrPem: Buffer.from(cr.spec.request, 'base64').toString('utf8'),
        durationSeconds: goDurationSeconds(cr.spec.duration ?? '2160h'),
        isCA: cr.spec.isCA ?? false,
        usages: cr.spec.usages ?? [],
        pod: { name: '', namespace: cr.metadata!.namespace!, uid: '', serviceAccount: '' },
        nodeId: '',
        volumeId: '',
      },
    );
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    await this.writeStatus(cr, {
      ...cr.status,
      certificate: b64(signed.certificatePem + signed.chainPem),
      ca: b64(this.o.caCertPem),
      conditions: [
        ...conditions,
        cond('Ready', 'True', 'Issued', 'Certificate fetched from issuer successfully'),
      ],
    });
    this.handled.set(key, 'sign');
  }

  private async writeStatus(cr: CertificateRequestObject, status: CertificateRequestObject['status']) {
    await this.api.replaceNamespacedCustomObjectStatus({
      group: CM_GROUP,
      version: CM_VERSION,
      plural: CM_PLURAL,
      namespace: cr.metadata!.namespace!,
      name: cr.metadata!.name!,
      body: { ...cr, status },
    });
  }
}
