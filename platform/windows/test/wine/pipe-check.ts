import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { WindowsPlatform } from '../../src/index.js';
import { assert, assertEqual } from './harness.js';

/**
 * grpc-js on a named pipe, on real Windows code paths: this process serves on the address that
 * prepareEndpoint returns, and a second node.exe (this same bundle, started with --pipe-client)
 * dials it, as a CSI client must do under Wine (Linux processes cannot reach a Wine pipe). The
 * service is a raw-bytes echo; the CSI services themselves are tested by the node role's suites.
 */

const echo = {
  echo: {
    path: '/csi_cert_driver.test.Pipe/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} satisfies grpc.ServiceDefinition;

/** Calls the echo service at `address` once; resolves with the reply. */
export function dialEcho(address: string, message: string): Promise<string> {
  const Client = grpc.makeGenericClientConstructor(echo, 'Pipe');
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      echo.echo.path,
      echo.echo.requestSerialize,
      echo.echo.responseDeserialize,
      Buffer.from(message),
      { deadline: Date.now() + 10_000 },
      (error: grpc.ServiceError | null, reply?: Buffer) => {
        client.close();
        if (error || !reply) reject(error ?? new Error('empty reply'));
        else resolve(reply.toString());
      },
    );
  });
}

/** Entry point of the child process: dials, writes the reply to `outFile`, exits 0 on success. */
export async function pipeClientMain(address: string, outFile: string): Promise<never> {
  const { writeFile } = await import('node:fs/promises');
  try {
    await writeFile(outFile, await dialEcho(address, `hello from pid ${process.pid}`));
    process.exit(0);
  } catch (e) {
    await writeFile(outFile, `ERROR ${(e as Error).message}`);
    process.exit(1);
  }
}

export async function checkPipeServing(platform: WindowsPlatform, endpoint: string) {
  const address = await platform.prepareEndpoint(endpoint);
  assert(address.startsWith('unix:\\\\.\\pipe\\'), `bind address ${address}`);
  const server = new grpc.Server();
  server.addService(echo, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) =>
      done(null, Buffer.concat([Buffer.from(`server ${process.pid} got: `), call.request])),
  });
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e, port) =>
      e ? reject(e) : resolve(port),
    ),
  );
  try {
    const sameProcess = await dialEcho(address, 'same process');
    assertEqual(sameProcess, `server ${process.pid} got: same process`, 'same-process reply');
    const otherProcess = await dialFromChild(address);
    assert(/^server \d+ got: hello from pid \d+$/.test(otherProcess), `child reply: ${otherProcess}`);
    return { endpoint, address, sameProcess, otherProcess };
  } finally {
    server.forceShutdown();
  }
}

/** Starts this bundle again in node.exe as a pipe client; stdout is not used (files are reliable under Wine). */
async function dialFromChild(address: string): Promise<string> {
  const script = process.argv[1];
  assert(script, 'bundle path');
  const outFile = join(tmpdir(), `pipe-client-${process.pid}.txt`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [script, '--pipe-client', address, outFile], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('exit', (c) => resolve(c));
    child.on('error', () => resolve(null));
    child.on('close', () => clearTimeout(timer));
  });
  const reply = await readFile(outFile, 'utf8').catch((e: Error) => `no reply file: ${e.message}`);
  await rm(outFile, { force: true });
  assertEqual(code, 0, `child exit code (${reply})`);
  return reply;
}
