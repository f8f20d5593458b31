import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { loadProto } from '../common/protos.js';
import { codeName, type GrpcCallMetrics } from '../metrics/grpc-call-metrics.js';
import type { UnaryHandlers } from './handlers.js';
import { toGrpcStatus } from './grpc-status.js';

/** The CSI services this server can serve (package csi.v1 of proto/csi.proto). */
export type CsiServiceName = 'Identity' | 'Node';

export interface CsiServerOptions {
  /** grpc-js bind address: `unix:///path.sock`, `unix:\\.\pipe\name`, `host:port`. */
  url: string;
  services: Partial<Record<CsiServiceName, UnaryHandlers>>;
  /** Every call is counted and timed here, by RPC name and status code name. */
  calls: GrpcCallMetrics;
  /** Unexpected errors (those that become INTERNAL) are logged here with their real message. */
  logger: Logger;
}

export interface CsiServer {
  /** Stops at once: calls in flight are cancelled (kubelet retries them). */
  close(): void;
}

/** The largest request accepted, as the NestJS gRPC server had it: 4 MiB. */
const MAX_RECEIVE_MESSAGE_LENGTH = 4 * 1024 * 1024;

type ServiceClient = grpc.ServiceClientConstructor;

/**
 * Serves CSI services on grpc-js directly (docs/adr/0023-node-role-without-nestjs.md). Each handler's
 * answer is sent as is; whatever it throws is sent as the status toGrpcStatus maps it to, so a
 * DomainError's code reaches kubelet unchanged and nothing else leaks its message.
 */
export async function startCsiServer(o: CsiServerOptions): Promise<CsiServer> {
  const v1 = (loadProto('csi.proto').csi as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_LENGTH,
    // No channelz (grpc-js's per-call and per-socket tracing for its admin service, which nothing
    // here serves): its call handler costs ~0.2 ms of CPU per call (ADR 28).
    'grpc.enable_channelz': 0,
  });
  for (const [name, handlers] of Object.entries(o.services)) {
    const impl: grpc.UntypedServiceImplementation = {};
    for (const [method, handler] of Object.entries(handlers)) impl[method] = unary(method, handler, o);
    server.addService((v1[name] as ServiceClient).service, impl);
  }
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.url, grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
  return { close: () => server.forceShutdown() };
}

function unary(
  method: string,
  handler: (request: never) => unknown,
  o: CsiServerOptions,
): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const finish = o.calls.start(method);
    new Promise((resolve) => resolve(handler(call.request as never))).then(
      (response) => {
        finish('OK');
        callback(null, response);
      },
      (e: unknown) => {
        const status = toGrpcStatus(e, o.logger);
        finish(codeName(status.code));
        callback(status);
      },
    );
  };
}
