/**
 * The issuer role's startup-snapshot entry (role-snapshot.ts; docs/adr/0026-node-role-from-a-startup-snapshot.md).
 * Its static imports are evaluated while the snapshot is built: the issuer role's whole graph
 * (NestJS, @nestjs/microservices, rxjs, reflect-metadata, grpc-js, protobufjs, pino, prom-client)
 * is in the blob; its settings, CA and Kubernetes client are read when it starts.
 */
// First: refuses to build the snapshot while a variable that packages read as they load is set.
import './common/load-time-env.js';
import { launchIssuer } from './cli.js';
import { registerRoleSnapshot } from './role-snapshot.js';
import './roles/issuer.role.js';

registerRoleSnapshot('issuer', { issuer: launchIssuer }, ['issuer.proto']);
