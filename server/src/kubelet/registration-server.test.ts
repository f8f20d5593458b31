import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../common/logger.js';
import { RegistrationClient } from './registration-client.js';
import {
  registrationCheck,
  startRegistrationServer,
  type RegistrationServer,
} from './registration-server.js';
import { probeSocket } from './plugin-socket.js';

const DRIVER = 'csi.k8s.cert-driver';
const ENDPOINT = '/var/lib/kubelet/plugins/csi.k8s.cert-driver/csi.sock';

function capturingLogger() {
  const out = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  out.on('data', (b: Buffer) => {
    for (const l of b.toString().split('\n').filter(Boolean))
      lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  return { logger: createLogger({ level: 'info', role: 'node', destination: out }), lines };
}

describe('plugin registration server (real gRPC over a real unix socket)', () => {
  let dir: string;
  let socketPath: string;
  let server: RegistrationServer | undefined;
  const cleanup: (() => void)[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ccd-reg-'));
    socketPath = join(dir, 'plugins_registry', `${DRIVER}-reg.sock`);
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    for (const c of cleanup.splice(0)) c();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (logger = capturingLogger().logger) =>
    startRegistrationServer({ socketPath, driverName: DRIVER, kubeletCsiEndpoint: ENDPOINT, logger });

  it('answers GetInfo as kubelet expects of a CSI plugin, on a 0600 socket', async () => {
    server = await start();
    expect(statSync(socketPath).isSocket()).toBe(true);
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
    const kubelet = new RegistrationClient(socketPath);
    cleanup.push(() => kubelet.close());
    expect(await kubelet.getInfo()).toEqual({
      type: 'CSIPlugin',
      name: DRIVER,
      endpoint: ENDPOINT,
      supported_versions: ['1.0.0'],
    });
  });

  it('records kubelet reports: an error (logged with its text), then success', async () => {
    const { logger, lines } = capturingLogger();
    server = await start(logger);
    expect(registrationCheck(server.state())).toEqual({
      ok: true,
      detail: `serving ${socketPath}, waiting for kubelet`,
    });
    const kubelet = new RegistrationClient(socketPath);
    cleanup.push(() => kubelet.close());

    await kubelet.notifyRegistrationStatus(false, 'highest supported version is 0.3\ninjected');
    expect(server.state()).toMatchObject({ serving: true, registered: false });
    expect(registrationCheck(server.state())).toEqual({
      ok: false,
      detail: 'kubelet refused the registration: highest supported version is 0.3 injected',
    });
    const err = lines.find((l) => l.msg === 'kubelet refused to register the driver');
    expect(err).toMatchObject({ level: 'error', kubeletError: 'highest supported version is 0.3 injected' });

    await kubelet.notifyRegistrationStatus(true);
    expect(server.state()).toMatchObject({ serving: true, registered: true, error: undefined });
    expect(registrationCheck(server.state()).ok).toBe(true);
  });

  it('bounds the error text kubelet sends', async () => {
    server = await start();
    const kubelet = new RegistrationClient(socketPath);
    cleanup.push(() => kubelet.close());
    await kubelet.notifyRegistrationStatus(false, 'x'.repeat(10_000));
    expect(server.state().error!.length).toBe(512);
  });

  it('removes its socket on close; kubelet then finds nothing', async () => {
    server = await start();
    await server.close();
    expect(existsSync(socketPath)).toBe(false);
    expect(server.state().serving).toBe(false);
    expect(registrationCheck(server.state()).ok).toBe(false);
  });

  it('replaces a stale socket nobody answers on (its server was SIGKILLed)', async () => {
    mkdirSync(join(dir, 'plugins_registry'));
    // A process killed with SIGKILL leaves its socket file behind with nobody listening.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => console.log('up'))`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((r) => child.stdout.once('data', () => r()));
    child.kill('SIGKILL');
    await new Promise<void>((r) => child.once('exit', () => r()));
    expect(await probeSocket(socketPath)).toBe('stale');
    const { logger, lines } = capturingLogger();
    server = await start(logger);
    expect(lines.find((l) => l.msg === 'replaced a stale registration socket')).toMatchObject({
      level: 'warn',
      path: socketPath,
    });
    const kubelet = new RegistrationClient(socketPath);
    cleanup.push(() => kubelet.close());
    expect((await kubelet.getInfo()).name).toBe(DRIVER);
  });

  it('never takes over a live socket, and the first server keeps answering', async () => {
    server = await start();
    await expect(start()).rejects.toThrow(/another process answers on this socket/);
    const kubelet = new RegistrationClient(socketPath);
    cleanup.push(() => kubelet.close());
    expect((await kubelet.getInfo()).name).toBe(DRIVER);
  });

  it('never deletes something that is not a socket', async () => {
    mkdirSync(join(dir, 'plugins_registry'));
    writeFileSync(socketPath, 'not a socket');
    await expect(start()).rejects.toThrow(/is not a socket; refusing to delete it/);
    expect(statSync(socketPath).isFile()).toBe(true);
  });
});
