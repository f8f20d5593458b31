/** Issuer and cert-manager port fakes for tests (imported only by `*.test.ts`). */
import { UnavailableError } from '../common/errors.js';
import type {
  CertificateRequestClient,
  CertificateRequestJanitorClient,
  CertificateRequestUpdates,
  CertificateRequestView,
  NewCertificateRequest,
} from './certificate-requests.port.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

/**
 * Another issuer with `check` run before each signature: it may record the request, or refuse it by
 * throwing (the signature then rejects with that error and `inner` is not called).
 */
export class CheckedIssuer implements Issuer {
  constructor(
    private readonly inner: Issuer,
    private readonly check: (req: SignRequest) => void,
  ) {}
  async sign(req: SignRequest): Promise<SignedCertificate> {
    this.check(req);
    return this.inner.sign(req);
  }
  caBundle(): Promise<string> {
    return this.inner.caBundle();
  }
  close(): void {}
}

/** An in-memory CertificateRequest API; `answer` plays cert-manager on each get. */
export class FakeRequests implements CertificateRequestClient, CertificateRequestJanitorClient {
  readonly objects = new Map<string, CertificateRequestView & { spec: NewCertificateRequest }>();
  readonly deleted: string[] = [];
  tokensUsed: (string | undefined)[] = [];
  answer: (cr: CertificateRequestView & { spec: NewCertificateRequest }) => void = () => undefined;
  failGets = 0;
  /** Shared with the per-token views `as` makes. */
  readonly calls = { gets: 0 };
  private n = 0;

  constructor(private readonly token?: string) {}

  as(token: string): FakeRequests {
    const view = Object.create(this) as FakeRequests;
    view.tokensUsed.push(token);
    return view;
  }

  create(req: NewCertificateRequest): Promise<{ name: string }> {
    const name = `${req.generateName}${++this.n}`;
    this.objects.set(`${req.namespace}/${name}`, {
      namespace: req.namespace,
      name,
      labels: req.labels,
      annotations: req.annotations,
      creationTimestamp: new Date(),
      conditions: [],
      spec: req,
    });
    return Promise.resolve({ name });
  }

  get(namespace: string, name: string) {
    this.calls.gets++;
    if (this.failGets > 0) {
      this.failGets--;
      return Promise.reject(new UnavailableError('API server down'));
    }
    const cr = this.objects.get(`${namespace}/${name}`);
    if (cr) this.answer(cr);
    return Promise.resolve(cr);
  }

  listByLabel(key: string, value: string) {
    return Promise.resolve([...this.objects.values()].filter((o) => o.labels[key] === value));
  }

  delete(namespace: string, name: string) {
    this.deleted.push(`${namespace}/${name}`);
    this.objects.delete(`${namespace}/${name}`);
    return Promise.resolve();
  }
}

/** A fake watch over the fake API's objects: `emit` plays an event; `stalled` drops them all. */
export class FakeUpdates implements CertificateRequestUpdates {
  private readonly waiters = new Map<string, ((changed: boolean) => void)[]>();
  stalled = false;

  constructor(private readonly fake: FakeRequests) {}

  synced() {
    return true;
  }

  get(namespace: string, name: string) {
    return this.stalled ? undefined : this.fake.objects.get(`${namespace}/${name}`);
  }

  changed(namespace: string, name: string, ms: number) {
    return new Promise<boolean>((resolve) => {
      const key = `${namespace}/${name}`;
      const timer = setTimeout(() => resolve(false), ms);
      this.waiters.set(key, [
        ...(this.waiters.get(key) ?? []),
        (c) => {
          clearTimeout(timer);
          resolve(c);
        },
      ]);
    });
  }

  emit(key: string) {
    if (this.stalled) return;
    const ws = this.waiters.get(key) ?? [];
    this.waiters.delete(key);
    for (const w of ws) w(true);
  }
}
