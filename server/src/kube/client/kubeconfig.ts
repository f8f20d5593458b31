/**
 * The kubeconfig loader of the node's Kubernetes access without `@kubernetes/client-node` (ADR 27):
 * the in-cluster config (KUBERNETES_SERVICE_HOST/PORT, the service account's token and ca.crt) or
 * the current context of a kubeconfig file with a server, a CA (file or data) or
 * insecure-skip-tls-verify, tls-server-name, and a bearer token (inline or a file) and/or a client
 * certificate and key (files or data). Files are re-read at most once a minute (a rotated token or
 * certificate is picked up, as client-go does), never per request.
 *
 * What it does not support (exec plugins, auth-provider, basic auth, impersonation, proxy-url,
 * several files in KUBECONFIG) is reported as `{ supported: false, reason }`, so the caller uses the
 * client library instead: never an error. A kubeconfig that is wrong (no current context, a context
 * naming a missing cluster or user, no server, bad base64) is a ConfigError naming KUBECONFIG and the
 * field. The YAML parser (`yaml`) is loaded only for a kubeconfig file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { ConfigError } from '../../config/settings.js';

/** Where kubelet mounts a pod's service-account token, CA and namespace; present only inside a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a file read stays fresh: client-go re-reads a token file at most once a minute. */
export const FILE_REFRESH_MS = 60_000;

export interface KubeConfigSource {
  /** Path of a kubeconfig file (`KUBECONFIG`); absent means the in-cluster config. */
  kubeconfigPath?: string | undefined;
  /** Environment consulted for the in-cluster config; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The in-cluster service-account folder; default SERVICE_ACCOUNT_DIR (tests point it elsewhere). */
  serviceAccountDir?: string | undefined;
  /** Clock of the file re-reads; default Date.now. */
  now?: () => number;
}

/** Bytes that come inline (`*-data`, `token`) or from a file re-read at most once a minute. */
export interface Material {
  /** The current bytes; rejects when the file cannot be read (the request then fails, retried later). */
  read(): Promise<Buffer>;
  /** Set when it is a file: for messages. */
  readonly file?: string | undefined;
}

/** Everything a request to the API server needs, as this loader found it. */
export interface ClusterAccess {
  /** `https://host:port[/path]` (or `http://`, for a test server). */
  server: string;
  /** PEM certificates to trust instead of the system's; absent = the system's. */
  ca?: Material | undefined;
  /** insecure-skip-tls-verify: the server's certificate is not checked. */
  insecureSkipTlsVerify: boolean;
  /** tls-server-name: the name checked in the server's certificate instead of the host. */
  tlsServerName?: string | undefined;
  /** A bearer token; absent = none sent. */
  token?: Material | undefined;
  /** A client certificate and its key (both or neither). */
  clientCert?: { cert: Material; key: Material } | undefined;
}

export type LoadedKubeConfig =
  { supported: true; access: ClusterAccess } | { supported: false; reason: string };

function inline(bytes: Buffer): Material {
  return { read: () => Promise.resolve(bytes) };
}

/** A file read when first needed and again when the last read is older than FILE_REFRESH_MS. */
export function fileMaterial(file: string, now: () => number = Date.now): Material {
  let cached: { at: number; bytes: Promise<Buffer> } | undefined;
  return {
    file,
    read() {
      const t = now();
      if (!cached || t - cached.at >= FILE_REFRESH_MS) {
        const bytes = readFile(file);
        // A failed read is not kept: the next request tries again.
        bytes.catch(() => {
          if (cached?.bytes === bytes) cached = undefined;
        });
        cached = { at: t, bytes };
      }
      return cached.bytes;
    },
  };
}

/**
 * The in-cluster config or the kubeconfig file of `src` (see above). Throws a ConfigError naming
 * KUBECONFIG when neither is usable or the file is wrong.
 */
export async function loadClusterAccess(src: KubeConfigSource = {}): Promise<LoadedKubeConfig> {
  const now = src.now ?? Date.now;
  if (src.kubeconfigPath) return fromFile(src.kubeconfigPath, now);
  const env = src.env ?? process.env;
  const dir = src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenFile = join(dir, 'token');
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host || !existsSync(tokenFile)) {
    throw new ConfigError(
      'KUBECONFIG',
      'is not set and the process does not run in a pod (no KUBERNETES_SERVICE_HOST or service-account token)',
    );
  }
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  if (!/^\d{1,5}$/.test(port)) {
    throw new ConfigError('KUBECONFIG', `is not set and KUBERNETES_SERVICE_PORT (${port}) is not a port`);
  }
  const caFile = join(dir, 'ca.crt');
  return {
    supported: true,
    access: {
      server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
      ca: existsSync(caFile) ? fileMaterial(caFile, now) : undefined,
      insecureSkipTlsVerify: false,
      token: fileMaterial(tokenFile, now),
    },
  };
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Named entries of a kubeconfig list (`clusters`, `users`, `contexts`): the one called `name`. */
function entry(doc: Obj, list: string, name: string): Obj | undefined {
  const items = doc[list];
  if (items === undefined || items === null) return undefined;
  if (!Array.isArray(items)) throw new Error(`${list} is not a list`);
  const found = (items as unknown[]).find((i) => isObj(i) && i.name === name) as Obj | undefined;
  return found;
}

function field(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Error(`${where}.${key} is not a string`);
  return v;
}

/** Strict base64 (whitespace allowed between groups): a typo must not become garbage bytes. */
function base64(v: string, where: string): Buffer {
  const s = v.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(s) || s.length % 4 === 1) {
    throw new Error(`${where} is not valid base64`);
  }
  return Buffer.from(s, 'base64');
}

function pem(bytes: Buffer, label: RegExp, where: string): Buffer {
  if (!label.test(bytes.toString('latin1'))) throw new Error(`${where} does not hold a PEM ${label.source}`);
  return bytes;
}

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/** `<key>-data` (base64 of PEM) or `<key>` (a file, relative to the kubeconfig's folder). */
function material(
  o: Obj,
  key: string,
  where: string,
  base: string,
  label: RegExp,
  now: () => number,
): Material | undefined {
  const data = field(o, `${key}-data`, where);
  if (data !== undefined)
    return inline(pem(base64(data, `${where}.${key}-data`), label, `${where}.${key}-data`));
  const file = field(o, key, where);
  if (file === undefined) return undefined;
  return fileMaterial(isAbsolute(file) ? file : join(base, file), now);
}

const UNSUPPORTED_USER = ['exec', 'auth-provider', 'username', 'password', 'as', 'as-uid', 'as-groups'];

async function fromFile(path: string, now: () => number): Promise<LoadedKubeConfig> {
  const fail = (why: string) => new ConfigError('KUBECONFIG', `${path}: ${why}`);
  if (path.includes(':') && !existsSync(path)) {
    return { supported: false, reason: 'KUBECONFIG names several files' };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw fail(`cannot read it: ${(e as Error).message}`);
  }
  let parse: (s: string) => unknown;
  try {
    parse = (await import('yaml')).parse;
  } catch {
    return { supported: false, reason: 'the YAML parser is not installed' };
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw fail(`is not YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!isObj(doc)) throw fail('is not a kubeconfig (no mapping at the top)');
  try {
    return select(doc, dirname(path), now);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fail((e as Error).message);
  }
}

function select(doc: Obj, base: string, now: () => number): LoadedKubeConfig {
  const current = field(doc, 'current-context', '');
  if (!current) throw new Error('has no current-context');
  const ctx = entry(doc, 'contexts', current)?.context;
  if (!isObj(ctx)) throw new Error(`current-context "${current}" names no entry of contexts`);
  const where = `contexts[${current}].context`;
  const clusterName = field(ctx, 'cluster', where);
  if (!clusterName) throw new Error(`${where}.cluster is missing`);
  const cluster = entry(doc, 'clusters', clusterName)?.cluster;
  if (!isObj(cluster)) throw new Error(`${where}.cluster "${clusterName}" names no entry of clusters`);
  const cw = `clusters[${clusterName}].cluster`;
  if (cluster['proxy-url']) return { supported: false, reason: `${cw}.proxy-url` };
  const server = field(cluster, 'server', cw);
  if (!server) throw new Error(`${cw}.server is missing`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new Error(`${cw}.server (${withoutUserinfo(server)}) is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new Error(`${cw}.server (${withoutUserinfo(server)}) is not an http(s) URL`);
  }
  const skip = cluster['insecure-skip-tls-verify'];
  if (skip !== undefined && typeof skip !== 'boolean') {
    throw new Error(`${cw}.insecure-skip-tls-verify is not true or false`);
  }
  const access: ClusterAccess = {
    server,
    ca: material(cluster, 'certificate-authority', cw, base, CERT, now),
    insecureSkipTlsVerify: skip === true,
    tlsServerName: field(cluster, 'tls-server-name', cw),
  };

  const userName = field(ctx, 'user', where);
  if (!userName) return { supported: true, access };
  const userEntry = entry(doc, 'users', userName);
  if (!userEntry) throw new Error(`${where}.user "${userName}" names no entry of users`);
  const user = userEntry.user ?? {};
  if (!isObj(user)) throw new Error(`users[${userName}].user is not a mapping`);
  const uw = `users[${userName}].user`;
  for (const k of UNSUPPORTED_USER) {
    if (user[k] !== undefined && user[k] !== null) return { supported: false, reason: `${uw}.${k}` };
  }
  const token = field(user, 'token', uw);
  const tokenFile = field(user, 'tokenFile', uw);
  if (token !== undefined) access.token = inline(Buffer.from(token));
  else if (tokenFile !== undefined) {
    access.token = fileMaterial(isAbsolute(tokenFile) ? tokenFile : join(base, tokenFile), now);
  }
  const cert = material(user, 'client-certificate', uw, base, CERT, now);
  const key = material(user, 'client-key', uw, base, KEY, now);
  if (cert && !key) throw new Error(`${uw} has a client-certificate but no client-key`);
  if (key && !cert) throw new Error(`${uw} has a client-key but no client-certificate`);
  if (cert && key) access.clientCert = { cert, key };
  return { supported: true, access };
}

/** `server` for an error message: credentials in a URL (`scheme://user:pass@host`) are masked. */
function withoutUserinfo(server: string): string {
  return server.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1***@');
}
