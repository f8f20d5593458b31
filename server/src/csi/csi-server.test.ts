import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { status, type ServiceError } from '@grpc/grpc-js';
import { PlatformError } from '@csi-cert-driver/platform-contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError } from '../common/errors.js';
import { createLogger } from '../common/logger.js';
import { CsiClient } from '../demo/csi-client.js';
import { NodeMetrics } from '../metrics/node-metrics.js';
import { startCsiServer, type CsiServer } from './csi-server.js';
import { identityService } from './identity.service.js';
import { nodeService } from './node.service.js';
import type { Readiness } from './tokens.js';

/** What the fake volume manager's publish throws, by volume id. */
const FAILURES: Record<string, () => unknown> = {
  'vol-exists': () => new AlreadyExistsError('volume vol-exists is published with other attributes'),
  'vol-platform': () => new PlatformError('resource-exhausted', 'tmpfs: no space left'),
  'vol-bare': () => new Error('secret detail of a bug'),
  'vol-string': () => 'a thrown string',
};

const dir = mkdtempSync(join(tmpdir(), 'ccd-csi-server-'));
let logged = '';
const logStream = new PassThrough().on('data', (c: Buffer) => (logged += c.toString()));
const logger = createLogger({ level: 'info', role: 'node', destination: logStream });
const readiness: Readiness = { ready: false };
const metrics = new NodeMetrics();
const published: string[] = [];
let server: CsiServer;
let client: CsiClient;

beforeAll(async () => {
  const info = { nodeId: 'node-1', driverName: 'csi.k8s.cert-driver', version: '9.9.9' };
  const volumes = {
    publish: async (req: { volumeId: string }) => {
      const fail = FAILURES[req.volumeId];
      if (fail) throw fail();
      published.push(req.volumeId);
      return Promise.resolve(undefined as never);
    },
    unpublish: () => Promise.resolve(),
  };
  const url = `unix://${join(dir, 'csi.sock')}`;
  server = await startCsiServer({
    url,
    services: { Identity: identityService(info, readiness), Node: nodeService(volumes, info) },
    calls: metrics.calls,
    logger,
  });
  client = new CsiClient(url, 10_000);
});
afterAll(() => {
  client.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

const publish = (volumeId: string, targetPath = join(dir, 'target')) => ({
  volume_id: volumeId,
  target_path: targetPath,
  volume_capability: { mount: {}, access_mode: { mode: 'SINGLE_NODE_WRITER' } },
  readonly: true,
  volume_context: { 'csi.storage.k8s.io/ephemeral': 'true' },
});

async function codeOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    await p;
    return { code: status.OK, details: '' };
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, details: err.details };
  }
}

describe('the CSI server on grpc-js', () => {
  it('answers Identity from the handler table, Probe following readiness', async () => {
    expect(await client.call('Identity', 'GetPluginInfo')).toEqual({
      name: 'csi.k8s.cert-driver',
      vendor_version: '9.9.9',
      manifest: {},
    });
    expect(await client.call('Identity', 'Probe')).toEqual({ ready: { value: false } });
    readiness.ready = true;
    expect(await client.call('Identity', 'Probe')).toEqual({ ready: { value: true } });
    expect(await client.call('Node', 'NodeGetInfo')).toMatchObject({ node_id: 'node-1' });
  });

  it.each([
    { name: 'a publish that succeeds', volumeId: 'vol-ok', code: status.OK, details: '' },
    {
      name: 'a request the conversion refuses',
      volumeId: '',
      code: status.INVALID_ARGUMENT,
      details: 'volume_id: is required',
    },
    {
      name: 'a domain error',
      volumeId: 'vol-exists',
      code: status.ALREADY_EXISTS,
      details: 'volume vol-exists is published with other attributes',
    },
    {
      name: 'a platform error',
      volumeId: 'vol-platform',
      code: status.RESOURCE_EXHAUSTED,
      details: 'tmpfs: no space left',
    },
    {
      name: 'a bare Error',
      volumeId: 'vol-bare',
      code: status.INTERNAL,
      details: 'internal error; see the driver log',
    },
    {
      name: 'a thrown string',
      volumeId: 'vol-string',
      code: status.INTERNAL,
      details: 'internal error; see the driver log',
    },
  ])('$name: $code', async ({ volumeId, code, details }) => {
    const got = await codeOf(client.call('Node', 'NodePublishVolume', publish(volumeId)));
    expect(got.code).toBe(code);
    if (code !== status.OK) expect(got.details).toContain(details);
  });

  it('logs the real cause of an INTERNAL answer, never sends it', () => {
    expect(logged).toContain('secret detail of a bug');
    expect(logged).toContain('unexpected error');
  });

  it('answers UNIMPLEMENTED for an RPC without a handler', async () => {
    expect((await codeOf(client.call('Node', 'NodeStageVolume', {}))).code).toBe(status.UNIMPLEMENTED);
  });

  it('counts every call by method and status code name', async () => {
    const text = (await metrics.scrape()).body;
    const count = (method: string, code: string) =>
      Number(
        new RegExp(`csi_cert_driver_csi_requests_total\\{method="${method}",code="${code}"\\} (\\d+)`).exec(
          text,
        )?.[1] ?? 0,
      );
    expect(count('NodePublishVolume', 'OK')).toBe(1);
    expect(count('NodePublishVolume', 'INVALID_ARGUMENT')).toBe(1);
    expect(count('NodePublishVolume', 'ALREADY_EXISTS')).toBe(1);
    expect(count('NodePublishVolume', 'RESOURCE_EXHAUSTED')).toBe(1);
    expect(count('NodePublishVolume', 'INTERNAL')).toBe(2);
    expect(count('Probe', 'OK')).toBe(2);
    expect(published).toEqual(['vol-ok']);
  });
});
