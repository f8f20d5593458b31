/**
 * The issuer role as a `bin/csi-cert-driver issuer` process against the test control plane, with a
 * typed client: the node's own GrpcIssuerClient, so every refusal arrives as the DomainError the
 * node would see.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { DriverProcess } from '../support/driver-process.js';
import { REPO_ROOT, ensureBuilt } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the node's issuer client drives the issuer as a node does
import { GrpcIssuerClient } from '../../server/src/issuer-client/grpc-issuer.client.js';
import { freeLoopbackPort } from '../support/ports.js';

export interface IssuerProcess {
  addr: string;
  proc: DriverProcess;
  client: GrpcIssuerClient;
  stop(): Promise<void>;
}

/**
 * Starts the issuer with `settings` (LISTEN_ADDR is added) and waits until it serves GetCABundle.
 * `waitReady: false` returns at once (for start-up failure tests).
 */
export async function startIssuerProcess(opts: {
  suite: string;
  name: string;
  cwd: string;
  settings: Record<string, string>;
  waitReady?: boolean;
  /** How the client reaches the issuer; default plaintext. */
  credentials?: ChannelCredentials;
}): Promise<IssuerProcess> {
  ensureBuilt();
  const logDir = join(REPO_ROOT, 'test-results', 'e2e', opts.suite);
  mkdirSync(logDir, { recursive: true });
  const addr = `127.0.0.1:${await freeLoopbackPort()}`;
  const proc = new DriverProcess({
    role: 'issuer',
    cwd: opts.cwd,
    logFile: join(logDir, `${opts.name}.log`),
    settings: { LOG_LEVEL: 'debug', LISTEN_ADDR: addr, ...opts.settings },
  });
  const client = new GrpcIssuerClient(addr, 20_000, opts.credentials);
  const stop = async () => {
    client.close();
    await proc.kill('SIGTERM');
  };
  if (opts.waitReady === false) return { addr, proc, client, stop };
  try {
    await waitFor(
      `the issuer to serve on ${addr}`,
      async () => {
        if (proc.exitStatus) throw new Error(`issuer exited ${JSON.stringify(proc.exitStatus)}`);
        return (await client.caBundle()) || undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n--- issuer log ---\n${proc.tail(30)}`);
  }
  return { addr, proc, client, stop };
}
