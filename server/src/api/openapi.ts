/**
 * The OpenAPI 3.1 description of the read-only API, served at `/openapi.json`. Written by hand
 * next to the wire types in `contract/types.ts`; a test checks every documented path against the
 * running server.
 */
import { SORT_KEYS, VOLUME_STATES } from '@csi-cert-driver/api-contract';
import { DEFAULT_LIMIT, MAX_LIMIT } from './volume-query.parse.js';

type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const time: Schema = { type: 'string', format: 'date-time' };
const int: Schema = { type: 'integer', minimum: 0 };
const strs: Schema = { type: 'array', items: str };
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, Schema>, required: string[]): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});

const json = (schema: Schema, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});
const errors = {
  '400': json(ref('ApiError'), 'A query parameter is unknown or malformed; the message names it.'),
};

const schemas: Record<string, Schema> = {
  VolumeState: {
    type: 'string',
    enum: [...VOLUME_STATES],
    description:
      'failed: expired, no certificate, renewals failing or publish failing; renewing: first issue, renewal running or due; expiring: inside the renewal window with auto-renew off; healthy: otherwise.',
  },
  StateCounts: obj(Object.fromEntries(VOLUME_STATES.map((s) => [s, int])), [...VOLUME_STATES]),
  PodRef: obj({ namespace: str, name: str, uid: str, serviceAccount: str }, [
    'namespace',
    'name',
    'uid',
    'serviceAccount',
  ]),
  SoonestExpiry: obj({ volumeId: str, pod: ref('PodRef'), notAfter: time }, ['volumeId', 'pod', 'notAfter']),
  VolumeSummary: obj(
    {
      volumeId: str,
      nodeId: str,
      pod: ref('PodRef'),
      targetPath: str,
      phase: { type: 'string', enum: ['publishing', 'published', 'publish-failing'] },
      state: ref('VolumeState'),
      stateReason: str,
      issuer: { type: 'string', description: '"built-in" or <kind>.<group>/<name>' },
      files: obj({ certificate: str, privateKey: str, ca: str, pkcs12: str }, ['certificate', 'privateKey']),
      certificate: obj({ serialHex: str, notBefore: time, notAfter: time, issuedAt: time }, [
        'serialHex',
        'notBefore',
        'notAfter',
        'issuedAt',
      ]),
      nextRenewalAt: time,
      autoRenew: { type: 'boolean' },
      failures: int,
      lastError: str,
      renewals: int,
      lastRenewalAt: time,
      createdAt: time,
    },
    [
      'volumeId',
      'nodeId',
      'pod',
      'targetPath',
      'phase',
      'state',
      'stateReason',
      'issuer',
      'files',
      'autoRenew',
      'failures',
      'renewals',
      'createdAt',
    ],
  ),
  CertificateDetails: obj(
    {
      subject: str,
      commonName: str,
      dnsNames: strs,
      ipAddresses: strs,
      uris: strs,
      emails: strs,
      issuer: str,
      serialHex: str,
      notBefore: time,
      notAfter: time,
      keyAlgorithm: { type: 'string', enum: ['RSA', 'ECDSA', 'Ed25519'] },
      keySize: int,
      sha256Fingerprint: str,
      isCA: { type: 'boolean' },
      usages: strs,
    },
    [
      'subject',
      'dnsNames',
      'ipAddresses',
      'uris',
      'emails',
      'issuer',
      'serialHex',
      'notBefore',
      'notAfter',
      'keyAlgorithm',
      'keySize',
      'sha256Fingerprint',
      'isCA',
      'usages',
    ],
  ),
  HistoryEntry: obj(
    {
      at: time,
      kind: { type: 'string', enum: ['issue', 'renew', 'publish'] },
      outcome: { type: 'string', enum: ['success', 'failure'] },
      serialHex: str,
      error: str,
    },
    ['at', 'kind', 'outcome'],
  ),
  VolumeDetails: {
    allOf: [
      { ...ref('VolumeSummary') },
      {
        type: 'object',
        properties: {
          certificateDetails: ref('CertificateDetails'),
          certificateError: str,
          requested: {
            type: 'object',
            description: 'The requested certificate from the volume attributes; secrets removed.',
          },
          attributes: {
            type: 'object',
            additionalProperties: str,
            description: 'Volume attributes; passwords appear as "[REDACTED]".',
          },
          history: { type: 'array', items: ref('HistoryEntry'), description: 'Newest last.' },
        },
        required: ['attributes', 'history'],
      },
    ],
  },
  VolumePage: obj(
    {
      items: { type: 'array', items: ref('VolumeSummary') },
      total: int,
      offset: int,
      limit: int,
      nextOffset: int,
      counts: { ...ref('StateCounts'), description: 'By state, over every filter except state.' },
      soonestExpiry: ref('SoonestExpiry'),
      generatedAt: time,
    },
    ['items', 'total', 'offset', 'limit', 'counts', 'generatedAt'],
  ),
  NodeSummary: obj(
    { nodeId: str, total: int, counts: ref('StateCounts'), soonestExpiry: ref('SoonestExpiry') },
    ['nodeId', 'total', 'counts'],
  ),
  ClusterView: obj(
    {
      source: { type: 'string', enum: ['local-node', 'status-objects'] },
      complete: { type: 'boolean' },
      note: str,
      nodes: { type: 'array', items: ref('NodeSummary') },
      totals: ref('StateCounts'),
      soonestExpiry: ref('SoonestExpiry'),
      generatedAt: time,
    },
    ['source', 'complete', 'note', 'nodes', 'totals', 'generatedAt'],
  ),
  NodeInfo: {
    allOf: [
      ref('NodeSummary'),
      {
        type: 'object',
        properties: {
          driverName: str,
          version: str,
          platform: str,
          startedAt: time,
          ready: { type: 'boolean' },
          issuer: obj({ address: str, reachable: { type: 'boolean' }, checkedAt: time, error: str }, [
            'address',
          ]),
          now: time,
        },
        required: ['driverName', 'version', 'platform', 'startedAt', 'ready', 'issuer', 'now'],
      },
    ],
  },
  Health: obj(
    {
      status: { type: 'string', enum: ['ok', 'unavailable'] },
      checks: {
        type: 'object',
        additionalProperties: obj({ ok: { type: 'boolean' }, detail: str }, ['ok']),
      },
    },
    ['status', 'checks'],
  ),
  ApiError: obj({ statusCode: int, error: str, message: str }, ['statusCode', 'error', 'message']),
};

const listParam = (name: string, description: string, items: Schema = str) => ({
  name,
  in: 'query',
  required: false,
  description: `${description} Comma-separated or repeated.`,
  schema: { type: 'array', items },
  style: 'form',
  explode: false,
});

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'csi-cert-driver node API',
    version: '1',
    description:
      'Read-only view of the volumes, certificates and renewals of a csi-cert-driver node. Never returns key material, tokens or passwords. Every method but GET and HEAD is answered with 405.',
  },
  paths: {
    '/api/v1/volumes': {
      get: {
        operationId: 'listVolumes',
        summary: 'Volumes of this node, filtered, sorted and paginated',
        parameters: [
          listParam('namespace', 'Only volumes of pods in these namespaces.'),
          listParam('node', 'Only volumes on these nodes.'),
          listParam('state', 'Only volumes in these states.', ref('VolumeState')),
          {
            name: 'q',
            in: 'query',
            description: 'Case-insensitive substring of namespace/name, volume id or serial.',
            schema: str,
          },
          { name: 'sort', in: 'query', schema: { type: 'string', enum: [...SORT_KEYS], default: 'expiry' } },
          { name: 'offset', in: 'query', schema: { ...int, default: 0 } },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
        ],
        responses: { '200': json(ref('VolumePage'), 'One page of volumes.'), ...errors },
      },
    },
    '/api/v1/volumes/{volumeId}': {
      get: {
        operationId: 'getVolume',
        summary: 'One volume with its certificate details and renewal history',
        parameters: [{ name: 'volumeId', in: 'path', required: true, schema: str }],
        responses: {
          '200': json(ref('VolumeDetails'), 'The volume.'),
          '404': json(ref('ApiError'), 'No such volume on this node.'),
        },
      },
    },
    '/api/v1/node': {
      get: {
        operationId: 'getNode',
        summary: 'This node: identity, version, readiness, issuer reachability, counts by state',
        responses: { '200': json(ref('NodeInfo'), 'This node.') },
      },
    },
    '/api/v1/cluster': {
      get: {
        operationId: 'getCluster',
        summary: 'Every node this API can see, with counts by state',
        responses: { '200': json(ref('ClusterView'), 'The cluster view.') },
      },
    },
    '/api/v1/events': {
      get: {
        operationId: 'streamEvents',
        summary:
          'Server-sent events: hello (or rejected when too many streams are open), volume ({type: upsert|delete}), ping',
        responses: {
          '200': { description: 'An event stream.', content: { 'text/event-stream': { schema: str } } },
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'healthz',
        summary: 'Liveness',
        responses: { '200': json(ref('Health'), 'Alive.') },
      },
    },
    '/readyz': {
      get: {
        operationId: 'readyz',
        summary:
          'Readiness: CSI socket served, state recovered and, with built-in kubelet registration, not refused by kubelet (issuer reported, not required)',
        responses: { '200': json(ref('Health'), 'Ready.'), '503': json(ref('Health'), 'Not ready.') },
      },
    },
  },
  components: { schemas },
} as const;
