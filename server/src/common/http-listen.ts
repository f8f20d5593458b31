/** Binding a plain `node:http` server (health, metrics) to a `host:port` setting. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Splits `host:port` / `[v6]:port`. */
export function splitHostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(addr.slice(i + 1)) };
}

/**
 * Answers a request that is not a GET or HEAD of `path`: 405 (`Allow: GET, HEAD`) for another
 * method, 404 with the one-line text `notFound` for another path. Returns true when it answered.
 */
export function refuseUnlessGet(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  notFound: string,
): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return true;
  }
  if ((req.url ?? '/').split('?')[0] !== path) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`${notFound}\n`);
    return true;
  }
  return false;
}

export interface HttpListener {
  /** `http://host:port` actually bound (an IPv6 address in brackets). */
  url: string;
  /** Closes the server; with `dropConnections` open keep-alive connections are cut, not waited for. */
  close(): Promise<void>;
}

/**
 * Binds `server` to `listenAddr` (port 0 picks a free one). A failure to bind rejects with the
 * server's error, or, when `setting` is given, with an Error that names the setting and the address.
 */
export async function listenHttp(
  server: Server,
  listenAddr: string,
  o: { setting?: string; dropConnections?: boolean } = {},
): Promise<HttpListener> {
  const { host, port } = splitHostPort(listenAddr);
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error) =>
      reject(o.setting ? new Error(`${o.setting} ${listenAddr}: cannot listen (${e.message})`) : e);
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        if (o.dropConnections) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
