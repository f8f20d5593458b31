/**
 * A rogue certificate issuer: a real gRPC server implementing proto/issuer.proto that sits where the
 * node expects its issuer and relays to the real one, until a test switches it to lie:
 *   relay      forwards both RPCs unchanged (an honest path)
 *   other-ca   answers GetCABundle with the real bundle, but signs CSRs with its own CA and appends
 *              that CA to the bundle of the answer (a man in the middle)
 *   other-key  signs with the real CA (a compromised issuer) a certificate for a key of its own
 * Certificates are made with the openssl CLI from the CSR the node sent (copying its extensions).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { makeCa, opensslOk, signCsrFile } from './openssl.js';
import { REPO_ROOT } from './repo.js';

export type RogueMode = 'relay' | 'other-ca' | 'other-key';

interface SignRequestWire {
  csr_pem: string;
  duration_seconds: string;
  [field: string]: unknown;
}

interface SignResponseWire {
  certificate_pem: string;
  chain_pem: string;
  ca_bundle_pem: string;
  serial_hex: string;
  not_before_unix_ms: string;
  not_after_unix_ms: string;
}

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;
type Stub = grpc.Client & {
  SignCertificate(req: object, opts: grpc.CallOptions, cb: Callback<SignResponseWire>): void;
  GetCABundle(req: object, opts: grpc.CallOptions, cb: Callback<{ ca_bundle_pem: string }>): void;
};

function loadService(): grpc.ServiceClientConstructor {
  const def = protoLoader.loadSync(join(REPO_ROOT, 'proto', 'issuer.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    csicertdriver: { issuer: { v1: { CertificateIssuer: grpc.ServiceClientConstructor } } };
  };
  return pkg.csicertdriver.issuer.v1.CertificateIssuer;
}

export class RogueIssuer {
  mode: RogueMode = 'relay';
  /** The real issuer, `host:port`; set once it is known. */
  upstream = '';
  /** The real issuer's CA files (other-key signs with them); set once they are known. */
  realCa = { cert: '', key: '' };
  /** SignCertificate calls answered, by mode. */
  readonly answered: Record<RogueMode, number> = { relay: 0, 'other-ca': 0, 'other-key': 0 };
  private client: Stub | undefined;
  private clientFor = '';

  private constructor(
    private readonly server: grpc.Server,
    readonly address: string,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RogueIssuer> {
    const dir = mkdtempSync('/tmp/ccd-rogue-');
    await makeCa(join(dir, 'rogue.crt'), join(dir, 'rogue.key'), 'rogue CA');
    await opensslOk([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-out',
      join(dir, 'other.key'),
    ]);
    await opensslOk(['pkey', '-in', join(dir, 'other.key'), '-pubout', '-out', join(dir, 'other.pub')]);
    const server = new grpc.Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    const rogue = new RogueIssuer(server, `127.0.0.1:${port}`, dir);
    server.addService(loadService().service, {
      SignCertificate: (
        call: grpc.ServerUnaryCall<SignRequestWire, SignResponseWire>,
        cb: Callback<SignResponseWire>,
      ) =>
        void rogue.sign(call.request).then(
          (res) => cb(null, res),
          (e: Error & { code?: number }) =>
            cb({
              name: 'Error',
              message: e.message,
              details: e.message,
              code: e.code ?? grpc.status.INTERNAL,
              metadata: new grpc.Metadata(),
            }),
        ),
      GetCABundle: (_call: unknown, cb: Callback<{ ca_bundle_pem: string }>) =>
        rogue.upstreamStub().GetCABundle({}, { deadline: new Date(Date.now() + 2000) }, cb),
    });
    return rogue;
  }

  close(): void {
    this.client?.close();
    this.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private upstreamStub(): Stub {
    if (!this.client || this.clientFor !== this.upstream) {
      this.client?.close();
      const Ctor = loadService();
      this.client = new Ctor(
        this.upstream || '127.0.0.1:1',
        grpc.credentials.createInsecure(),
      ) as unknown as Stub;
      this.clientFor = this.upstream;
    }
    return this.client;
  }

  private relay(req: SignRequestWire): Promise<SignResponseWire> {
    return new Promise((resolve, reject) =>
      this.upstreamStub().SignCertificate(req, { deadline: new Date(Date.now() + 5000) }, (err, res) =>
        err ? reject(err) : resolve(res as SignResponseWire),
      ),
    );
  }

  private async sign(req: SignRequestWire): Promise<SignResponseWire> {
    const mode = this.mode;
    this.answered[mode]++;
    if (mode === 'relay') return this.relay(req);
    const csr = join(this.dir, 'req.csr');
    const out = join(this.dir, 'leaf.crt');
    writeFileSync(csr, req.csr_pem);
    const [caCert, caKey] =
      mode === 'other-ca'
        ? [join(this.dir, 'rogue.crt'), join(this.dir, 'rogue.key')]
        : [this.realCa.cert, this.realCa.key];
    const days = Math.max(1, Math.floor(Number(req.duration_seconds) / 86400));
    await signCsrFile({
      csr,
      ca: { cert: caCert, key: caKey },
      days,
      out,
      extra: [
        '-set_serial',
        '0x7e57',
        ...(mode === 'other-key' ? ['-force_pubkey', join(this.dir, 'other.pub')] : []),
      ],
    });
    const certificate = readFileSync(out, 'utf8');
    const realBundle = readFileSync(this.realCa.cert, 'utf8');
    const now = Date.now();
    return {
      certificate_pem: certificate,
      chain_pem: '',
      ca_bundle_pem: mode === 'other-ca' ? readFileSync(caCert, 'utf8') + realBundle : realBundle,
      serial_hex: '7e57',
      not_before_unix_ms: String(now),
      not_after_unix_ms: String(now + Number(days) * 86400_000),
    };
  }
}
