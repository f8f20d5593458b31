import * as grpc from '@grpc/grpc-js';
import { loadProto } from '../common/protos.js';
import {
  FailedPreconditionError,
  InternalError,
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  type DomainError,
} from '../common/errors.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

interface SignResponseWire {
  certificate_pem: string;
  chain_pem: string;
  ca_bundle_pem: string;
  serial_hex: string;
  not_before_unix_ms: string;
  not_after_unix_ms: string;
}

type Unary<Req, Res> = (
  req: Req,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: Res) => void,
) => void;

interface IssuerStub extends grpc.Client {
  SignCertificate: Unary<object, SignResponseWire>;
  GetCABundle: Unary<object, { ca_bundle_pem: string }>;
}

/**
 * The built-in issuer, reached over gRPC at CERT_SERVICE_ADDR. Every failure becomes a DomainError:
 * transport problems (issuer down, deadline) are UNAVAILABLE so kubelet retries; refusals keep
 * their meaning.
 */
export class GrpcIssuerClient implements Issuer {
  private readonly stub: IssuerStub;

  constructor(
    private readonly target: string,
    private readonly timeoutMs: number,
    credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  ) {
    const pkg = loadProto('issuer.proto') as unknown as {
      csicertdriver: { issuer: { v1: { CertificateIssuer: grpc.ServiceClientConstructor } } };
    };
    const Ctor = pkg.csicertdriver.issuer.v1.CertificateIssuer;
    this.stub = new Ctor(target, credentials, {
      'grpc.keepalive_time_ms': 60_000,
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 5_000,
      // No channelz tracing per call and subchannel (nothing serves grpc-js's admin service): ADR 28.
      'grpc.enable_channelz': 0,
    }) as unknown as IssuerStub;
  }

  async sign(req: SignRequest): Promise<SignedCertificate> {
    const wire = {
      csr_pem: req.csrPem,
      pod: {
        name: req.pod.name,
        namespace: req.pod.namespace,
        uid: req.pod.uid,
        service_account: req.pod.serviceAccount,
      },
      node_id: req.nodeId,
      volume_id: req.volumeId,
      duration_seconds: String(req.durationSeconds),
      is_ca: req.isCA,
      usages: req.usages,
      token: req.token ?? '',
    };
    const res = await this.call<SignResponseWire>('SignCertificate', wire);
    return {
      certificatePem: res.certificate_pem,
      chainPem: res.chain_pem,
      caBundlePem: res.ca_bundle_pem,
      serialHex: res.serial_hex,
      notBefore: new Date(Number(res.not_before_unix_ms)),
      notAfter: new Date(Number(res.not_after_unix_ms)),
    };
  }

  async caBundle(): Promise<string> {
    const res = await this.call<{ ca_bundle_pem: string }>('GetCABundle', {});
    return res.ca_bundle_pem;
  }

  close(): void {
    this.stub.close();
  }

  private call<Res>(method: 'SignCertificate' | 'GetCABundle', req: object): Promise<Res> {
    return new Promise((resolve, reject) => {
      const deadline = new Date(Date.now() + this.timeoutMs);
      (this.stub[method] as Unary<object, Res>).call(this.stub, req, { deadline }, (err, res) => {
        if (err) reject(this.translate(err));
        else resolve(res as Res);
      });
    });
  }

  private translate(err: grpc.ServiceError): DomainError {
    const detail = err.details || err.message;
    switch (err.code) {
      case grpc.status.INVALID_ARGUMENT:
        return new InvalidArgumentError('issuer', detail);
      case grpc.status.PERMISSION_DENIED:
        return new PermissionDeniedError(`issuer denied the request: ${detail}`);
      case grpc.status.UNAUTHENTICATED:
        return new UnauthenticatedError(`issuer could not authenticate the request: ${detail}`);
      case grpc.status.FAILED_PRECONDITION:
        return new FailedPreconditionError(`issuer policy rejected the request: ${detail}`);
      case grpc.status.UNAVAILABLE:
      case grpc.status.DEADLINE_EXCEEDED:
      case grpc.status.CANCELLED:
      case grpc.status.RESOURCE_EXHAUSTED:
        return new UnavailableError(
          `certificate issuer at ${this.target} is unreachable (${grpc.status[err.code]}: ${detail}); kubelet will retry`,
        );
      default:
        return new InternalError(
          `certificate issuer at ${this.target} failed: ${grpc.status[err.code]}: ${detail}`,
        );
    }
  }
}
