// Loads proto/csi.proto and proto/issuer.proto the way the server does (@grpc/proto-loader) and
// checks them against the CSI spec: every Identity and Node RPC with its request/response types,
// and the field numbers that kubelet's wire format depends on.
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MessageTypeDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';

const protoDir = fileURLToPath(new URL('../../proto/', import.meta.url));

const loaderOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoDir],
};

const csi: PackageDefinition = loadSync(`${protoDir}csi.proto`, loaderOptions);
const issuer: PackageDefinition = loadSync(`${protoDir}issuer.proto`, loaderOptions);

interface FieldDescriptor {
  name: string;
  number: number;
  type: string;
  label: string;
  typeName: string;
}
interface EnumValueDescriptor {
  name: string;
  number: number;
}
interface EnumDescriptor {
  name: string;
  value: EnumValueDescriptor[];
}
interface MessageDescriptor {
  name: string;
  field: FieldDescriptor[];
  nestedType: MessageDescriptor[];
  enumType: EnumDescriptor[];
  oneofDecl: { name: string }[];
}

function service(pkg: PackageDefinition, name: string): ServiceDefinition {
  const def = pkg[name];
  if (def === undefined || 'format' in def) throw new Error(`${name} is not a service`);
  return def as ServiceDefinition;
}

/** Top-level message descriptor, or a nested one when `path` names it ("VolumeCapability.MountVolume"). */
function message(pkg: PackageDefinition, path: string): MessageDescriptor {
  const [top, ...nested] = path.split('.');
  const def = pkg[`csi.v1.${top}`] as MessageTypeDefinition<object, object> | undefined;
  if (def?.format !== 'Protocol Buffer 3 DescriptorProto') throw new Error(`csi.v1.${top} is not a message`);
  let desc = def.type as MessageDescriptor;
  for (const name of nested) {
    const inner = desc.nestedType.find((n) => n.name === name);
    if (inner === undefined) throw new Error(`${path}: no nested message ${name}`);
    desc = inner;
  }
  return desc;
}

function enumValues(desc: MessageDescriptor, enumName: string): Record<string, number> {
  const e = desc.enumType.find((x) => x.name === enumName);
  if (e === undefined) throw new Error(`${desc.name}: no enum ${enumName}`);
  return Object.fromEntries(e.value.map((v) => [v.name, v.number]));
}

function field(desc: MessageDescriptor, name: string): FieldDescriptor {
  const f = desc.field.find((x) => x.name === name);
  if (f === undefined) throw new Error(`${desc.name}: no field ${name}`);
  return f;
}

describe('csi.proto services', () => {
  const rpcs = [
    { svc: 'Identity', rpc: 'GetPluginInfo' },
    { svc: 'Identity', rpc: 'GetPluginCapabilities' },
    { svc: 'Identity', rpc: 'Probe' },
    { svc: 'Node', rpc: 'NodeStageVolume' },
    { svc: 'Node', rpc: 'NodeUnstageVolume' },
    { svc: 'Node', rpc: 'NodePublishVolume' },
    { svc: 'Node', rpc: 'NodeUnpublishVolume' },
    { svc: 'Node', rpc: 'NodeGetVolumeStats' },
    { svc: 'Node', rpc: 'NodeExpandVolume' },
    { svc: 'Node', rpc: 'NodeGetCapabilities' },
    { svc: 'Node', rpc: 'NodeGetInfo' },
  ];

  it.each(rpcs)('$svc/$rpc is unary, $rpc + Request -> $rpc + Response', ({ svc, rpc }) => {
    const method = service(csi, `csi.v1.${svc}`)[rpc];
    expect(method).toBeDefined();
    expect(method?.path).toBe(`/csi.v1.${svc}/${rpc}`);
    expect(method?.requestStream).toBe(false);
    expect(method?.responseStream).toBe(false);
    expect((method?.requestType.type as MessageDescriptor).name).toBe(`${rpc}Request`);
    expect((method?.responseType.type as MessageDescriptor).name).toBe(`${rpc}Response`);
  });

  it.each(['Identity', 'Node'])('csi.v1.%s has exactly the spec RPCs', (svc) => {
    const want = rpcs.filter((r) => r.svc === svc).map((r) => r.rpc);
    expect(Object.keys(service(csi, `csi.v1.${svc}`)).sort()).toEqual([...want].sort());
  });

  it.each(['Controller', 'GroupController', 'SnapshotMetadata'])('csi.v1.%s is left out', (svc) => {
    expect(csi[`csi.v1.${svc}`]).toBeUndefined();
  });
});

describe('csi.proto field numbers', () => {
  const fields = [
    { msg: 'NodePublishVolumeRequest', name: 'volume_id', number: 1, type: 'TYPE_STRING' },
    { msg: 'NodePublishVolumeRequest', name: 'publish_context', number: 2, type: 'TYPE_MESSAGE' },
    { msg: 'NodePublishVolumeRequest', name: 'staging_target_path', number: 3, type: 'TYPE_STRING' },
    { msg: 'NodePublishVolumeRequest', name: 'target_path', number: 4, type: 'TYPE_STRING' },
    { msg: 'NodePublishVolumeRequest', name: 'volume_capability', number: 5, type: 'TYPE_MESSAGE' },
    { msg: 'NodePublishVolumeRequest', name: 'readonly', number: 6, type: 'TYPE_BOOL' },
    { msg: 'NodePublishVolumeRequest', name: 'secrets', number: 7, type: 'TYPE_MESSAGE' },
    { msg: 'NodePublishVolumeRequest', name: 'volume_context', number: 8, type: 'TYPE_MESSAGE' },
    { msg: 'NodeGetCapabilitiesResponse', name: 'capabilities', number: 1, type: 'TYPE_MESSAGE' },
    { msg: 'NodeServiceCapability', name: 'rpc', number: 1, type: 'TYPE_MESSAGE' },
    { msg: 'NodeServiceCapability.RPC', name: 'type', number: 1, type: 'TYPE_ENUM' },
    { msg: 'VolumeCapability', name: 'block', number: 1, type: 'TYPE_MESSAGE' },
    { msg: 'VolumeCapability', name: 'mount', number: 2, type: 'TYPE_MESSAGE' },
    { msg: 'VolumeCapability', name: 'access_mode', number: 3, type: 'TYPE_MESSAGE' },
    { msg: 'VolumeCapability.MountVolume', name: 'fs_type', number: 1, type: 'TYPE_STRING' },
    { msg: 'VolumeCapability.MountVolume', name: 'mount_flags', number: 2, type: 'TYPE_STRING' },
    { msg: 'VolumeCapability.MountVolume', name: 'volume_mount_group', number: 3, type: 'TYPE_STRING' },
    { msg: 'VolumeCapability.AccessMode', name: 'mode', number: 1, type: 'TYPE_ENUM' },
    { msg: 'ProbeResponse', name: 'ready', number: 1, type: 'TYPE_MESSAGE' },
    { msg: 'NodeGetInfoResponse', name: 'node_id', number: 1, type: 'TYPE_STRING' },
    { msg: 'NodeGetInfoResponse', name: 'max_volumes_per_node', number: 2, type: 'TYPE_INT64' },
    { msg: 'NodeGetInfoResponse', name: 'accessible_topology', number: 3, type: 'TYPE_MESSAGE' },
    { msg: 'NodeGetVolumeStatsResponse', name: 'volume_condition', number: 2, type: 'TYPE_MESSAGE' },
    { msg: 'NodeExpandVolumeRequest', name: 'secrets', number: 6, type: 'TYPE_MESSAGE' },
  ];

  it.each(fields)('$msg field $name = $number ($type)', ({ msg, name, number, type }) => {
    const f = field(message(csi, msg), name);
    expect(f.number).toBe(number);
    expect(f.type).toBe(type);
  });

  it('NodePublishVolumeRequest has exactly eight fields', () => {
    expect(message(csi, 'NodePublishVolumeRequest').field.map((f) => f.number)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('ProbeResponse.ready is a google.protobuf.BoolValue', () => {
    expect(field(message(csi, 'ProbeResponse'), 'ready').typeName).toBe('google.protobuf.BoolValue');
  });

  it.each([
    { msg: 'VolumeCapability', oneof: 'access_type', members: ['block', 'mount'] },
    { msg: 'PluginCapability', oneof: 'type', members: ['service', 'volume_expansion'] },
    { msg: 'NodeServiceCapability', oneof: 'type', members: ['rpc'] },
  ])('$msg oneof $oneof holds $members', ({ msg, oneof, members }) => {
    // The descriptor's oneofIndex defaults to 0 for every field, so membership is checked on the wire.
    expect(message(csi, msg).oneofDecl.map((o) => o.name)).toEqual([oneof]);
    const def = csi[`csi.v1.${msg}`] as MessageTypeDefinition<object, Record<string, unknown>>;
    for (const member of members) {
      expect(def.deserialize(def.serialize({ [member]: {} }))[oneof]).toBe(member);
    }
    const others = message(csi, msg).field.filter((f) => !members.includes(f.name));
    for (const other of others) {
      expect(def.deserialize(def.serialize({ [other.name]: {} }))[oneof]).toBeUndefined();
    }
  });
});

describe('csi.proto enums', () => {
  const enums = [
    {
      msg: 'NodeServiceCapability.RPC',
      enumName: 'Type',
      values: {
        UNKNOWN: 0,
        STAGE_UNSTAGE_VOLUME: 1,
        GET_VOLUME_STATS: 2,
        EXPAND_VOLUME: 3,
        VOLUME_CONDITION: 4,
        SINGLE_NODE_MULTI_WRITER: 5,
        VOLUME_MOUNT_GROUP: 6,
      },
    },
    {
      msg: 'VolumeCapability.AccessMode',
      enumName: 'Mode',
      values: {
        UNKNOWN: 0,
        SINGLE_NODE_WRITER: 1,
        SINGLE_NODE_READER_ONLY: 2,
        MULTI_NODE_READER_ONLY: 3,
        MULTI_NODE_SINGLE_WRITER: 4,
        MULTI_NODE_MULTI_WRITER: 5,
        SINGLE_NODE_SINGLE_WRITER: 6,
        SINGLE_NODE_MULTI_WRITER: 7,
      },
    },
    {
      msg: 'PluginCapability.Service',
      enumName: 'Type',
      values: {
        UNKNOWN: 0,
        CONTROLLER_SERVICE: 1,
        VOLUME_ACCESSIBILITY_CONSTRAINTS: 2,
        GROUP_CONTROLLER_SERVICE: 3,
        SNAPSHOT_METADATA_SERVICE: 4,
      },
    },
    {
      msg: 'PluginCapability.VolumeExpansion',
      enumName: 'Type',
      values: { UNKNOWN: 0, ONLINE: 1, OFFLINE: 2 },
    },
    { msg: 'VolumeUsage', enumName: 'Unit', values: { UNKNOWN: 0, BYTES: 1, INODES: 2 } },
  ];

  it.each(enums)('$msg enum $enumName values', ({ msg, enumName, values }) => {
    expect(enumValues(message(csi, msg), enumName)).toEqual(values);
  });
});

describe('csi.proto wire round trip', () => {
  it('NodeGetCapabilities response keeps the oneof and the enum name', () => {
    const method = service(csi, 'csi.v1.Node')['NodeGetCapabilities'];
    if (method === undefined) throw new Error('NodeGetCapabilities missing');
    const bytes = method.responseSerialize({ capabilities: [{ rpc: { type: 'GET_VOLUME_STATS' } }] });
    // field 1 (capabilities) { field 1 (rpc) { field 1 (type) = 2 } }
    expect([...bytes]).toEqual([0x0a, 0x04, 0x0a, 0x02, 0x08, 0x02]);
    expect(method.responseDeserialize(bytes)).toEqual({
      capabilities: [{ rpc: { type: 'GET_VOLUME_STATS' }, type: 'rpc' }],
    });
  });

  it('NodePublishVolume request carries volume_context and readonly', () => {
    const method = service(csi, 'csi.v1.Node')['NodePublishVolume'];
    if (method === undefined) throw new Error('NodePublishVolume missing');
    const req = {
      volume_id: 'csi-abc',
      target_path: '/var/lib/kubelet/pods/uid/volumes/kubernetes.io~csi/tls/mount',
      volume_capability: {
        mount: { fs_type: '', mount_flags: [] },
        access_mode: { mode: 'SINGLE_NODE_WRITER' },
      },
      readonly: true,
      volume_context: { 'csi.storage.k8s.io/ephemeral': 'true', 'csi.storage.k8s.io/pod.name': 'web-0' },
    };
    const got = method.requestDeserialize(method.requestSerialize(req)) as Record<string, unknown>;
    expect(got).toMatchObject({
      ...req,
      volume_capability: { ...req.volume_capability, access_type: 'mount' },
    });
  });
});

describe('issuer.proto', () => {
  it.each([
    { rpc: 'SignCertificate', request: 'SignCertificateRequest', response: 'SignCertificateResponse' },
    { rpc: 'GetCABundle', request: 'GetCABundleRequest', response: 'GetCABundleResponse' },
  ])('CertificateIssuer/$rpc: $request -> $response', ({ rpc, request, response }) => {
    const method = service(issuer, 'csicertdriver.issuer.v1.CertificateIssuer')[rpc];
    expect(method?.path).toBe(`/csicertdriver.issuer.v1.CertificateIssuer/${rpc}`);
    expect((method?.requestType.type as MessageDescriptor).name).toBe(request);
    expect((method?.responseType.type as MessageDescriptor).name).toBe(response);
  });
});
