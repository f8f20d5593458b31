import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DemoConfig } from '../config/config.js';
import type { Logger } from '../common/logger.js';
import { generateDevCa } from '../issuer/dev-ca.js';
import { DEMO_PODS } from '../demo/demo-pods.js';
import { SimulatedKubelet } from '../demo/simulated-kubelet.js';
import { startIssuerRole, type IssuerRole } from './issuer.role.js';
import { startNodeRole, type NodeRole } from './node.role.js';

export interface DemoRole {
  issuer: IssuerRole;
  node: NodeRole;
  kubelet: SimulatedKubelet;
  close(): Promise<void>;
}

/**
 * Everything on one machine: a dev CA (created on first run, reused after), the issuer on a unix
 * socket, the node driver on its CSI socket, and a simulated kubelet publishing the demo pods.
 * As root volumes are real tmpfs mounts; otherwise plain directories, with a warning.
 */
export async function startDemoRole(cfg: DemoConfig, logger: Logger): Promise<DemoRole> {
  const dir = cfg.demoDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const privileged = process.platform === 'linux' && process.getuid?.() === 0;
  if (!privileged) {
    logger.warn(
      'not running as root: volumes are plain directories, not tmpfs mounts, and keys are written to disk (demo only)',
    );
  }
  const ca = await generateDevCa({ dir: join(dir, 'ca') });
  const issuerSock = `unix://${join(dir, 'issuer.sock')}`;
  const csiSock = `unix://${join(dir, 'csi.sock')}`;
  const kubelet = new SimulatedKubelet(
    csiSock,
    join(dir, 'kubelet', 'pods'),
    DEMO_PODS,
    logger.child({ component: 'kubelet' }),
  );
  const issuer = await startIssuerRole(
    {
      logLevel: cfg.logLevel,
      listenAddr: issuerSock,
      caCertFile: ca.certFile,
      caKeyFile: ca.keyFile,
      issuerAuth: 'none',
      minDurationSeconds: 60,
      maxDurationSeconds: 30 * 24 * 3600,
      allowCA: false,
    },
    logger.child({ component: 'issuer' }),
  );
  const node = await startNodeRole(
    {
      logLevel: cfg.logLevel,
      csiEndpoint: csiSock,
      nodeId: 'demo-node',
      certServiceAddr: issuerSock,
      certBasePath: join(dir, 'node'),
      kubeletRootDir: join(dir, 'kubelet'),
      clusterDomain: cfg.clusterDomain,
      volumeSizeBytes: 1024 * 1024,
      issuerTimeoutMs: 10_000,
      apiListenAddr: cfg.apiListenAddr,
      apiCorsOrigins: cfg.apiCorsOrigins,
    },
    logger.child({ component: 'node' }),
    // A publish the issuer refuses leaves no state on the node (it is rolled back); the API shows the
    // simulated kubelet's failing publishes as failed volumes, phase publish-failing.
    {
      privileged,
      publishFailures: () =>
        kubelet.pods.flatMap((p) =>
          p.error
            ? [
                {
                  volumeId: p.volumeId,
                  targetPath: p.targetPath,
                  pod: {
                    namespace: p.pod.namespace,
                    name: p.pod.name,
                    uid: p.uid,
                    serviceAccount: p.pod.serviceAccount,
                  },
                  error: p.error,
                },
              ]
            : [],
        ),
    },
  );
  await kubelet.start();
  printSummary(cfg, ca.certFile, kubelet, privileged, node.api?.url);
  return {
    issuer,
    node,
    kubelet,
    async close() {
      await kubelet.stop();
      await node.close();
      await issuer.close();
    },
  };
}

function printSummary(
  cfg: DemoConfig,
  caFile: string,
  kubelet: SimulatedKubelet,
  privileged: boolean,
  apiUrl: string | undefined,
): void {
  const lines = [
    '',
    `csi-cert-driver demo is running (${privileged ? 'tmpfs mounts' : 'plain directories: not root'}); Ctrl-C stops it and unpublishes every volume.`,
    ...(apiUrl ? [`  dashboard:     ${apiUrl}/`, `  API:           ${apiUrl}/api/v1/volumes`] : []),
    `  dev CA:        ${caFile}`,
    `  CSI socket:    unix://${join(cfg.demoDir, 'csi.sock')}`,
    '',
    'Pod volumes (kubelet target paths):',
  ];
  for (const p of kubelet.pods) {
    const state = p.error ? `FAILING: ${p.error}` : 'published';
    lines.push(`  ${`${p.pod.namespace}/${p.pod.name}`.padEnd(22)} ${state}`);
    lines.push(`      ${p.targetPath}`);
    lines.push(`      ${p.pod.note}`);
  }
  const first = kubelet.pods.find((p) => !p.error);
  if (first) {
    lines.push(
      '',
      'Look at one:',
      `  openssl x509 -noout -subject -ext subjectAltName -enddate -in ${join(first.targetPath, 'tls.crt')}`,
    );
  }
  console.log(lines.join('\n') + '\n');
}
