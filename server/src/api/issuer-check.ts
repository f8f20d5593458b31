import type { IssuerCheck as IssuerCheckView } from '@csi-cert-driver/api-contract';

/**
 * Whether the issuer answers, asked at most once per `ttlMs` (a GetCABundle call with a short
 * deadline) so probes and dashboards polling the API never load the issuer. Informational: the
 * node stays ready when the issuer is down, so a broken issuer cannot stall a driver rollout.
 */
export class IssuerCheck {
  private last: IssuerCheckView | undefined;
  private inflight: Promise<IssuerCheckView> | undefined;

  constructor(
    readonly address: string,
    private readonly probe: () => Promise<unknown>,
    private readonly ttlMs = 10_000,
    private readonly timeoutMs = 2_000,
  ) {}

  async get(now = Date.now()): Promise<IssuerCheckView> {
    if (this.last?.checkedAt && now - Date.parse(this.last.checkedAt) < this.ttlMs) return this.last;
    this.inflight ??= this.run().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async run(): Promise<IssuerCheckView> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([this.probe(), timeout]);
      this.last = { address: this.address, reachable: true, checkedAt: new Date().toISOString() };
    } catch (e) {
      this.last = {
        address: this.address,
        reachable: false,
        checkedAt: new Date().toISOString(),
        error: (e as Error).message,
      };
    } finally {
      clearTimeout(timer);
    }
    return this.last;
  }
}
