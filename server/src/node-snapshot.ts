/**
 * The node role's startup-snapshot entry (role-snapshot.ts; docs/adr/0026-node-role-from-a-startup-snapshot.md).
 * Its static imports are evaluated while the snapshot is built: the node role's whole graph
 * (grpc-js, protobufjs, pino, prom-client) is in the blob.
 */
// First: refuses to build the snapshot while a variable that packages read as they load is set.
import './common/load-time-env.js';
import { launchNode } from './cli.js';
import { registerRoleSnapshot } from './role-snapshot.js';
import './roles/node.role.js';

registerRoleSnapshot('node', { node: launchNode }, ['csi.proto', 'issuer.proto', 'pluginregistration.proto']);
