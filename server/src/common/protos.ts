import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** proto-loader options shared by every server and client: field names exactly as in the .proto. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let protoDir: string | undefined;

/** The repository's (or image's) `proto/` folder, found by walking up from this module. */
export function protoDirectory(): string {
  if (protoDir) return protoDir;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'proto', 'csi.proto'))) return (protoDir = join(dir, 'proto'));
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find proto/csi.proto above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** The .proto files of proto/: CSI, our issuer's API, and kubelet's plugin registration API. */
export type ProtoName = 'csi.proto' | 'issuer.proto' | 'pluginregistration.proto';

export function protoFile(name: ProtoName): string {
  return join(protoDirectory(), name);
}

const definitions = new Map<string, protoLoader.PackageDefinition>();
const cache = new Map<string, grpc.GrpcObject>();

/**
 * proto-loader's reflection of a proto file (cached: a role's startup snapshot holds it, ADR 26):
 * what a NestJS gRPC server takes as `packageDefinition`.
 */
export function protoDefinition(name: ProtoName): protoLoader.PackageDefinition {
  let def = definitions.get(name);
  if (!def) {
    def = protoLoader.loadSync(protoFile(name), { ...LOADER_OPTIONS, includeDirs: [protoDirectory()] });
    definitions.set(name, def);
  }
  return def;
}

/** Loads a proto file into a grpc-js package object (cached). */
export function loadProto(name: ProtoName): grpc.GrpcObject {
  let pkg = cache.get(name);
  if (!pkg) {
    pkg = grpc.loadPackageDefinition(protoDefinition(name));
    cache.set(name, pkg);
  }
  return pkg;
}
