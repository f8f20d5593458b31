/**
 * A recording proxy between the node and the issuer: the node's CERT_SERVICE_ADDR points here, every
 * call is forwarded unchanged to the real issuer, and each SignCertificate request's volume id and
 * token are kept, so a suite can see exactly which token left the node. Listens on 127.0.0.1 with a
 * free port; `close()` stops it.
 */
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { REPO_ROOT } from './repo.js';

export interface SeenSign {
  volumeId: string;
  token: string;
}

type Unary = (
  req: object,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: object) => void,
) => void;

export class IssuerProxy {
  private constructor(
    readonly address: string,
    private readonly server: grpc.Server,
    private readonly upstream: grpc.Client,
    /** Every SignCertificate the node sent, in arrival order. */
    readonly seen: SeenSign[],
  ) {}

  /** Starts the proxy in front of the issuer at `issuerAddr` (`host:port`). */
  static async start(issuerAddr: string): Promise<IssuerProxy> {
    const def = protoLoader.loadSync(join(REPO_ROOT, 'proto', 'issuer.proto'), {
      keepCase: true,
      longs: String,
      defaults: true,
    });
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      csicertdriver: { issuer: { v1: { CertificateIssuer: grpc.ServiceClientConstructor } } };
    };
    const Ctor = pkg.csicertdriver.issuer.v1.CertificateIssuer;
    const upstream = new Ctor(issuerAddr, grpc.credentials.createInsecure());
    const server = new grpc.Server();
    const seen: SeenSign[] = [];
    const forward =
      (method: string, record?: (req: Record<string, unknown>) => void) =>
      (call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) => {
        record?.(call.request as Record<string, unknown>);
        const fn = (upstream as unknown as Record<string, Unary>)[method]!;
        fn.call(upstream, call.request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
          err ? cb(err) : cb(null, res),
        );
      };
    server.addService(Ctor.service, {
      SignCertificate: forward('SignCertificate', (r) =>
        seen.push({ volumeId: String(r.volume_id), token: String(r.token ?? '') }),
      ),
      GetCABundle: forward('GetCABundle'),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    return new IssuerProxy(`127.0.0.1:${port}`, server, upstream, seen);
  }

  /** The tokens the issuer received for one volume, in call order. */
  tokensFor(volumeId: string): string[] {
    return this.seen.filter((s) => s.volumeId === volumeId).map((s) => s.token);
  }

  close(): Promise<void> {
    this.upstream.close();
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
