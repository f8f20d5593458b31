import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessIssuer } from '../../test/support/in-process-issuer.js';
import { inProcessNodeConfig } from '../../test/support/in-process-node.js';
import { createLogger } from '../common/logger.js';
import { CsiClient, kubeletPublishRequest } from '../demo/csi-client.js';
import { GrpcIssuerClient } from '../issuer-client/grpc-issuer.client.js';
import { createDevCaPem } from '../issuer/dev-ca.js';
import { CertificateAuthority } from '../issuer/certificate-authority.js';
import { makeCsr } from '../issuer/testing/ca-fixtures.js';
import { FakePlatform } from '../platform/fake-platform.js';
import { startIssuerRole, type IssuerRole } from '../roles/issuer.role.js';
import { startNodeRole, type NodeRole } from '../roles/node.role.js';
import { renderVolumeExpiries } from './node-metrics.js';

/** One sample of the text exposition format. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

async function scrape(url: string): Promise<{ type: string; samples: Sample[]; text: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { type: res.headers.get('content-type') ?? '', samples: parse(text), text };
}

const logger = createLogger({ level: 'silent', role: 'test', destination: new PassThrough() });

/** The fake platform, able to release free memory (as the Linux adapter with glibc is); counts calls. */
class TrimmingPlatform extends FakePlatform {
  releases = 0;
  readonly releaseFreeMemory = (): boolean => (this.releases++, true);
}

/** Spins until this process has used `ms` more CPU time, so a MemoryTrimmer sees a busy period. */
function burnCpu(ms: number): void {
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const until = cpu() + ms;
  while (cpu() < until) Math.sqrt(Math.random());
}

describe('node metrics, scraped from the API server', () => {
  const platform = new TrimmingPlatform();
  let dir: string;
  let node: NodeRole;
  let issuer: InProcessIssuer;
  let client: CsiClient;
  let n = 0;

  const publish = (volumeId: string) =>
    client.call(
      'Node',
      'NodePublishVolume',
      kubeletPublishRequest({
        volumeId,
        targetPath: `/var/lib/kubelet/pods/${volumeId}/volumes/kubernetes.io~csi/tls/mount`,
        pod: {
          name: `web-${++n}`,
          namespace: 'shop',
          uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
          serviceAccount: 'web',
        },
      }),
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'metrics-'));
    issuer = await InProcessIssuer.create();
    node = await startNodeRole(
      inProcessNodeConfig(dir, {
        logLevel: 'silent' as never,
        nodeId: 'metrics-node',
        apiListenAddr: '127.0.0.1:0',
        keyPool: { size: 2, workers: 1, shapes: [{ algorithm: 'ECDSA', size: 256 }] },
        // Looked at by the test (tick), never by the timer.
        memoryTrimIntervalMs: 3_600_000,
      }),
      logger,
      { platform, issuer },
    );
    client = new CsiClient(`unix://${join(dir, 'csi.sock')}`, 10_000);
  });

  afterAll(async () => {
    client.close();
    await node.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts publishes by code, renewals by outcome, times issuance and follows volumes, pool and bundle', async () => {
    for (const id of ['m-1', 'm-2', 'm-3']) await publish(id);
    issuer.down = true;
    await expect(publish('m-4')).rejects.toMatchObject({ code: 14 });
    await node.renewal.renew('m-1'); // fails: issuer down
    issuer.down = false;
    await node.renewal.renew('m-2');
    await client.call('Node', 'NodeUnpublishVolume', {
      volume_id: 'm-3',
      target_path: '/var/lib/kubelet/pods/m-3/volumes/kubernetes.io~csi/tls/mount',
    });

    burnCpu(60);
    expect(node.trimmer?.tick()).toBe(true);
    expect(platform.releases).toBe(1);

    const { type, samples, text } = await scrape(`${node.api!.url}/metrics`);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = (name: string, labels?: Record<string, string>) => value(samples, name, labels);
    const P = 'csi_cert_driver_';
    expect(m(`${P}csi_requests_total`, { method: 'NodePublishVolume', code: 'OK' })).toBe(3);
    expect(m(`${P}csi_requests_total`, { method: 'NodePublishVolume', code: 'UNAVAILABLE' })).toBe(1);
    expect(m(`${P}csi_requests_total`, { method: 'NodeUnpublishVolume', code: 'OK' })).toBe(1);
    expect(m(`${P}csi_request_duration_seconds_count`, { method: 'NodePublishVolume' })).toBe(4);
    expect(m(`${P}renewals_total`, { outcome: 'success' })).toBe(1);
    expect(m(`${P}renewals_total`, { outcome: 'failure' })).toBe(1);
    expect(m(`${P}issuance_duration_seconds_count`, { outcome: 'success' })).toBe(4);
    expect(m(`${P}issuance_duration_seconds_count`, { outcome: 'failure' })).toBe(2);
    expect(m(`${P}managed_volumes`)).toBe(2);
    expect(m(`${P}memory_trims_total`, { result: 'released' })).toBe(1);
    expect(m(`${P}memory_trim_seconds_total`)).toBeGreaterThanOrEqual(0);

    const expiries = samples.filter((s) => s.name === `${P}certificate_expiry_timestamp_seconds`);
    expect(expiries.map((s) => s.labels.volume_id).sort()).toEqual(['m-1', 'm-2']);
    const state = await node.store.get('m-2');
    expect(m(`${P}certificate_expiry_timestamp_seconds`, { volume_id: 'm-2', namespace: 'shop' })).toBe(
      Date.parse(state!.certificate!.notAfter) / 1000,
    );

    const takes = samples.filter((s) => s.name === `${P}key_pool_requests_total`);
    expect(takes.every((s) => s.labels.algorithm === 'ECDSA' && s.labels.size === '256')).toBe(true);
    expect(takes.reduce((a, s) => a + s.value, 0)).toBe(6); // 4 publishes + 2 renewals, failed ones included
    expect(m(`${P}key_pool_keys`, { algorithm: 'ECDSA', size: '256' })).toBeGreaterThanOrEqual(0);
    expect(m(`${P}trust_bundle_certificates`)).toBe(1);
    expect(m(`${P}trust_bundle_lagging_volumes`)).toBe(0);
    expect(m('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    for (const name of [
      'memory_trims_total',
      'memory_trim_seconds_total',
      'csi_requests_total',
      'renewals_total',
      'managed_volumes',
      'certificate_expiry_timestamp_seconds',
      'key_pool_keys',
      'issuance_duration_seconds',
      'trust_bundle_volume_updates_total',
    ]) {
      expect(text).toContain(`# HELP ${P}${name} `);
    }
  });
});

describe('issuer metrics, scraped from METRICS_LISTEN_ADDR', () => {
  let dir: string;
  let role: IssuerRole;
  let client: GrpcIssuerClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'issuer-metrics-'));
    const { certPem, keyPem } = await createDevCaPem('metrics CA');
    await writeFile(join(dir, 'ca.crt'), certPem);
    await writeFile(join(dir, 'ca.key'), keyPem, { mode: 0o600 });
    role = await startIssuerRole(
      {
        logLevel: 'info',
        listenAddr: `unix://${join(dir, 'issuer.sock')}`,
        caCertFile: join(dir, 'ca.crt'),
        caKeyFile: join(dir, 'ca.key'),
        issuerAuth: 'none',
        minDurationSeconds: 60,
        maxDurationSeconds: 3600,
        allowCA: false,
        caReloadIntervalMs: 0,
        caRotationDelayMs: 0,
        metricsListenAddr: '127.0.0.1:0',
      },
      logger,
    );
    client = new GrpcIssuerClient(`unix://${join(dir, 'issuer.sock')}`, 5000);
  });

  afterAll(async () => {
    client.close();
    await role.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('counts signatures by outcome and shows the CAs it trusts', async () => {
    const pod = { name: 'web-0', namespace: 'default', uid: 'u1', serviceAccount: 'web' };
    const base = { pod, nodeId: 'n1', volumeId: 'v1', durationSeconds: 600, isCA: false, usages: [] };
    const { csrPem } = await makeCsr();
    await client.sign({ ...base, csrPem });
    await client.sign({ ...base, csrPem });
    await expect(client.sign({ ...base, csrPem: 'not a CSR' })).rejects.toMatchObject({ code: 3 });
    await client.caBundle();

    const next = await createDevCaPem('metrics CA 2');
    role.rotation.propose(await CertificateAuthority.load(next));

    const { samples } = await scrape(`${role.metricsUrl}/metrics`);
    const m = (name: string, labels?: Record<string, string>) => value(samples, name, labels);
    const P = 'csi_cert_driver_issuer_';
    expect(m(`${P}signatures_total`, { outcome: 'signed' })).toBe(2);
    expect(m(`${P}signatures_total`, { outcome: 'refused' })).toBe(1);
    expect(m(`${P}requests_total`, { method: 'SignCertificate', code: 'OK' })).toBe(2);
    expect(m(`${P}requests_total`, { method: 'SignCertificate', code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(m(`${P}requests_total`, { method: 'GetCABundle', code: 'OK' })).toBe(1);
    expect(m(`${P}request_duration_seconds_count`, { method: 'SignCertificate' })).toBe(3);
    expect(
      m(`${P}ca_expiry_timestamp_seconds`, {
        state: 'active',
        subject: 'O=csi-cert-driver, CN=metrics CA 2',
      }),
    ).toBeGreaterThan(Date.now() / 1000);
    expect(
      m(`${P}ca_expiry_timestamp_seconds`, { state: 'retired', subject: 'O=csi-cert-driver, CN=metrics CA' }),
    ).toBeGreaterThan(Date.now() / 1000);
    expect(m(`${P}trust_bundle_certificates`)).toBe(2);

    const res404 = await fetch(`${role.metricsUrl}/other`);
    expect(res404.status).toBe(404);
    const res405 = await fetch(`${role.metricsUrl}/metrics`, { method: 'POST' });
    expect(res405.status).toBe(405);
  });
});

describe('renderVolumeExpiries', () => {
  const P = 'csi_cert_driver_';
  it.each([
    { name: 'plain names', pod: 'web-1', want: 'pod="web-1"' },
    { name: 'a double quote', pod: 'we"b', want: 'pod="we\\"b"' },
    { name: 'a backslash', pod: 'we\\b', want: 'pod="we\\\\b"' },
    { name: 'a newline', pod: 'we\nb', want: 'pod="we\\nb"' },
  ])('writes one series per volume with $name escaped', ({ pod, want }) => {
    const text = renderVolumeExpiries(
      new Map([['csi-1', { namespace: 'shop', pod, notAfter: 1_764_000_000_500 }]]),
    );
    const lines = text.split('\n');
    expect(lines.slice(0, 2)).toEqual([
      `# HELP ${P}certificate_expiry_timestamp_seconds The notAfter of each volume's current certificate, in seconds since the epoch.`,
      `# TYPE ${P}certificate_expiry_timestamp_seconds gauge`,
    ]);
    expect(lines[2]).toBe(
      `${P}certificate_expiry_timestamp_seconds{volume_id="csi-1",namespace="shop",${want}} 1764000000.5`,
    );
    expect(lines.slice(3)).toEqual(['']);
  });

  it('writes the HELP and TYPE lines alone without volumes', () => {
    expect(renderVolumeExpiries(new Map()).trim().split('\n')).toHaveLength(2);
  });
});
