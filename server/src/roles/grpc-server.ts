// Nest's decorators and injector read metadata through it; only the roles that use Nest load it.
import 'reflect-metadata';
import { Module, type DynamicModule, type NestInterceptor, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import type { ServerCredentials, ServerInterceptor } from '@grpc/grpc-js';
import { protoDefinition } from '../common/protos.js';
import type { Logger } from '../common/logger.js';
import { GrpcErrorFilter } from '../csi/grpc-error.filter.js';
import { NestPinoLogger } from './nest-logger.js';

export interface GrpcServerOptions {
  /** grpc-js bind address: `unix:///path.sock`, `unix:\\.\pipe\name`, `host:port`. */
  url: string;
  protos: ('csi.proto' | 'issuer.proto')[];
  packages: string[];
  controllers: Type[];
  providers: Provider[];
  logger: Logger;
  /** Global interceptors (metrics). */
  interceptors?: NestInterceptor[];
  /** grpc-js server interceptors, run around NestJS's handling of each call (cheaper than a Nest interceptor). */
  grpcInterceptors?: ServerInterceptor[];
  /** TLS for the listener; default plaintext. */
  credentials?: ServerCredentials | undefined;
}

/**
 * Starts a NestJS gRPC microservice serving the given controllers. Errors from handlers go
 * through GrpcErrorFilter, so a DomainError's code reaches the client as is.
 */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<INestMicroservice> {
  @Module({})
  class GrpcRoleModule {
    static register(): DynamicModule {
      return { module: GrpcRoleModule, controllers: opts.controllers, providers: opts.providers };
    }
  }
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(GrpcRoleModule.register(), {
    transport: Transport.GRPC,
    logger: new NestPinoLogger(opts.logger),
    options: {
      url: opts.url,
      package: opts.packages,
      // The files' reflection, made once per process (or saved in a role's startup snapshot, ADR 26).
      packageDefinition: Object.assign({}, ...opts.protos.map((p) => protoDefinition(p))),
      maxReceiveMessageLength: 4 * 1024 * 1024,
      // Nothing reads grpc-js's channelz, and it tracks every call (ADR 29).
      // grpc-js reads its server interceptors from the same options object.
      channelOptions: { 'grpc.enable_channelz': 0, interceptors: opts.grpcInterceptors ?? [] },
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    },
  });
  app.useGlobalFilters(new GrpcErrorFilter(opts.logger));
  if (opts.interceptors?.length) app.useGlobalInterceptors(...opts.interceptors);
  await app.listen();
  return app;
}
