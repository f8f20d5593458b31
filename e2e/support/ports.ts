/**
 * Free TCP ports on 127.0.0.1 for the processes the end-to-end suites and the benchmarks start.
 * A port is free the moment it is returned; another process may take it before ours binds it.
 */
import { createServer } from 'node:net';

/** `n` distinct free loopback ports (all held open together, so no two are the same). */
export async function freeLoopbackPorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (srv) =>
        new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => {
            const addr = srv.address();
            if (typeof addr === 'object' && addr) resolve(addr.port);
            else reject(new Error('no TCP port'));
          });
        }),
    ),
  );
  await Promise.all(servers.map((srv) => new Promise((resolve) => srv.close(resolve))));
  return ports;
}

/** One free loopback port. */
export async function freeLoopbackPort(): Promise<number> {
  const [port] = await freeLoopbackPorts(1);
  return port as number;
}
