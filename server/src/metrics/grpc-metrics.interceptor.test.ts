import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../common/protos.js';
import { GrpcCallMetrics } from './grpc-call-metrics.js';
import { grpcMetricsInterceptor } from './grpc-metrics.interceptor.js';

type Ctor = grpc.ServiceClientConstructor;
const pkg = loadProto('issuer.proto') as unknown as {
  csicertdriver: { issuer: { v1: { CertificateIssuer: Ctor } } };
};
const Service = pkg.csicertdriver.issuer.v1.CertificateIssuer;

/** What the interceptor recorded (a fake of the prom-client metrics): finished calls and timings. */
const recorded: { method: string; code: string }[] = [];
let timings = 0;
const calls = new GrpcCallMetrics({
  requests: { inc: (labels: { method: string; code: string }) => recorded.push({ ...labels }) } as never,
  duration: {
    startTimer: () => () => {
      timings++;
      return 0;
    },
  } as never,
});

describe('grpcMetricsInterceptor', () => {
  let server: grpc.Server;
  let client: grpc.Client & Record<string, (...a: unknown[]) => grpc.ClientUnaryCall>;

  beforeAll(async () => {
    server = new grpc.Server({ interceptors: [grpcMetricsInterceptor(calls)] });
    server.addService(Service.service, {
      // csr_pem picks the outcome: an answer, a refusal, or no answer at all (the client cancels)
      SignCertificate: (
        call: grpc.ServerUnaryCall<{ csr_pem: string }, unknown>,
        cb: grpc.sendUnaryData<unknown>,
      ) => {
        if (call.request.csr_pem === 'ok') cb(null, {});
        else if (call.request.csr_pem === 'bad')
          cb({ code: grpc.status.INVALID_ARGUMENT, details: 'csr_pem: bad' });
      },
      GetCABundle: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { ca_bundle_pem: '' }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    client = new Service(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const sign = (csr_pem: string) =>
    new Promise<number>((resolve) => {
      const call = client.SignCertificate!({ csr_pem }, (e: grpc.ServiceError | null) =>
        resolve(e ? e.code : 0),
      );
      if (csr_pem === 'hang') setTimeout(() => call.cancel(), 100);
    });

  it.each([
    { name: 'an answer', csr: 'ok', wantClient: grpc.status.OK, want: 'OK' },
    { name: 'a refusal', csr: 'bad', wantClient: grpc.status.INVALID_ARGUMENT, want: 'INVALID_ARGUMENT' },
    { name: 'a call the client cancels', csr: 'hang', wantClient: grpc.status.CANCELLED, want: 'CANCELLED' },
  ])('counts and times $name once, by method and code', async ({ csr, wantClient, want }) => {
    recorded.length = 0;
    timings = 0;
    expect(await sign(csr)).toBe(wantClient);
    await expect.poll(() => recorded.length).toBe(1);
    expect(recorded).toEqual([{ method: 'SignCertificate', code: want }]);
    expect(timings).toBe(1);
  });
});
