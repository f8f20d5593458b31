/**
 * The Kubernetes adapter of cert-manager mode's CertificateRequest ports: cert-manager.io/v1
 * CertificateRequests through the custom-objects API, as the driver's account or as a pod (a client
 * built from the driver's cluster settings and the pod's bearer token). The calls go out as plain
 * JSON requests on the client's KubeConfig and connections (kube-json.ts); a client without one
 * (a test's fake) is called through its generated methods. API failures become
 * DomainErrors: 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED (naming the identity and the RBAC
 * verb), 404 on create → FAILED_PRECONDITION (cert-manager's API is not installed), 429/5xx/network
 * or no answer within `callTimeoutMs` or a list whose continue token keeps expiring → UNAVAILABLE,
 * anything else → INTERNAL. Lists are read page by page (paged-list.ts).
 */
import type { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  FailedPreconditionError,
  InternalError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  type DomainError,
} from '../../common/errors.js';
import type {
  CertificateRequestClient,
  CertificateRequestJanitorClient,
  CertificateRequestView,
  NewCertificateRequest,
  RequestCondition,
} from '../../issuer-client/certificate-requests.port.js';
import type { ClientLibrary } from '../client/kube-client.js';
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';
import { reuseConnections } from '../client/connection-reuse.js';
import { customObjectPages, listAll, ListExpiredError } from '../client/paged-list.js';
import { kubeConfigOf, kubeJson, type KubeJson } from '../client/kube-json.js';

const GROUP = 'cert-manager.io';
const VERSION = 'v1';
const PLURAL = 'certificaterequests';

interface CrObject {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
  status?: { conditions?: RequestCondition[]; certificate?: string; ca?: string };
}

function fromBase64(v: string | undefined): string | undefined {
  return v ? Buffer.from(v, 'base64').toString('utf8') : undefined;
}

/** The node's view of a CertificateRequest object. */
export function viewOf(o: CrObject): CertificateRequestView {
  const m = o.metadata ?? {};
  return {
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    creationTimestamp: m.creationTimestamp ? new Date(m.creationTimestamp) : undefined,
    conditions: (o.status?.conditions ?? []).map((c) => ({
      type: String(c.type),
      status: String(c.status),
      reason: c.reason,
      message: c.message,
    })),
    certificate: fromBase64(o.status?.certificate),
    ca: fromBase64(o.status?.ca),
  };
}

/** The object the API server gets for `req`. */
export function certificateRequestObject(req: NewCertificateRequest): object {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'CertificateRequest',
    metadata: {
      generateName: req.generateName,
      namespace: req.namespace,
      labels: req.labels,
      annotations: req.annotations,
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          name: req.owner.name,
          uid: req.owner.uid,
          blockOwnerDeletion: false,
        },
      ],
    },
    spec: {
      request: Buffer.from(req.csrPem).toString('base64'),
      issuerRef: req.issuerRef,
      duration: req.duration,
      isCA: req.isCA,
      usages: req.usages,
      ...(req.username ? { username: req.username } : {}),
    },
  };
}

export interface CertificateRequestApiOptions {
  /** `config.makeApiClient(lib.CustomObjectsApi)` of the identity to act as. */
  api: CustomObjectsApi;
  /** Named in error messages: "the driver's service account", "service account apps/web". */
  who: string;
  /** Bound on each API call; default 10 s. */
  callTimeoutMs?: number;
}

/** The single-object calls a CertificateRequestApi makes, over one transport (lists are paged: paged-list.ts). */
interface Transport {
  create(namespace: string, body: object): Promise<unknown>;
  get(namespace: string, name: string): Promise<unknown>;
  delete(namespace: string, name: string): Promise<unknown>;
}

const RESOURCE = `/apis/${GROUP}/${VERSION}`;
const nsPath = (namespace: string) => `${RESOURCE}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;

/** Plain JSON requests on the client's own KubeConfig and connections (kube-json.ts, ADR 25). */
function directTransport(json: KubeJson): Transport {
  return {
    create: (namespace, body) => json.request('POST', nsPath(namespace), body),
    get: (namespace, name) => json.request('GET', `${nsPath(namespace)}/${encodeURIComponent(name)}`),
    delete: (namespace, name) => json.request('DELETE', `${nsPath(namespace)}/${encodeURIComponent(name)}`),
  };
}

/** The generated client's calls: for a client that carries no KubeConfig (tests' fakes). */
function libraryTransport(api: CustomObjectsApi): Transport {
  const at = { group: GROUP, version: VERSION, plural: PLURAL };
  return {
    create: (namespace, body) => api.createNamespacedCustomObject({ ...at, namespace, body }),
    get: (namespace, name) => api.getNamespacedCustomObject({ ...at, namespace, name }),
    delete: (namespace, name) => api.deleteNamespacedCustomObject({ ...at, namespace, name }),
  };
}

/** CertificateRequests as one identity. */
export class CertificateRequestApi implements CertificateRequestClient, CertificateRequestJanitorClient {
  private readonly transport: Transport;
  private readonly timeoutMs: number;

  constructor(private readonly o: CertificateRequestApiOptions) {
    const kc = kubeConfigOf(o.api);
    this.transport = kc ? directTransport(kubeJson(kc)) : libraryTransport(o.api);
    this.timeoutMs = o.callTimeoutMs ?? 10_000;
  }

  async create(req: NewCertificateRequest): Promise<{ name: string }> {
    const created = (await this.call('create', req.namespace, () =>
      this.transport.create(req.namespace, certificateRequestObject(req)),
    )) as CrObject;
    const name = created.metadata?.name;
    if (!name) throw new InternalError('the API server returned a CertificateRequest without a name');
    return { name };
  }

  async get(namespace: string, name: string): Promise<CertificateRequestView | undefined> {
    try {
      const o = (await this.call('get', namespace, () => this.transport.get(namespace, name))) as CrObject;
      return viewOf(o);
    } catch (e) {
      if ((e as { notFound?: boolean }).notFound) return undefined;
      throw e;
    }
  }

  async listByLabel(key: string, value: string): Promise<CertificateRequestView[]> {
    const read = customObjectPages<CrObject>(this.o.api, {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      labelSelector: `${key}=${value}`,
    });
    const list = await this.call('list', '', () => listAll({ what: PLURAL, read, map: viewOf }));
    return list.items;
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.call('delete', namespace, () => this.transport.delete(namespace, name));
    } catch (e) {
      if ((e as { notFound?: boolean }).notFound) return;
      throw e;
    }
  }

  private async call<T>(verb: string, namespace: string, fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              `the API server did not answer ${verb} certificaterequests within ${this.timeoutMs} ms`,
            ),
          ),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([fn(), timeout]);
    } catch (e) {
      if (e instanceof UnavailableError) throw e;
      throw this.translate(e, verb, namespace);
    } finally {
      clearTimeout(timer);
    }
  }

  private translate(e: unknown, verb: string, namespace: string): DomainError {
    if (e instanceof ListExpiredError) return new UnavailableError(e.message);
    const code = kubeStatusCode(e);
    const detail = describeKubeError(e);
    const where = namespace ? ` in namespace ${namespace}` : ' in all namespaces';
    if (code === 404) {
      if (verb === 'create' || verb === 'list') {
        return new FailedPreconditionError(
          `cert-manager's CertificateRequest API (${GROUP}/${VERSION}) is not installed in this cluster (${detail})`,
        );
      }
      return Object.assign(new UnavailableError(`certificaterequest not found (${detail})`), {
        notFound: true,
      });
    }
    if (code === 401) {
      return new UnauthenticatedError(`the API server rejected the credentials of ${this.o.who} (${detail})`);
    }
    if (code === 403) {
      return new PermissionDeniedError(
        `${this.o.who} may not ${verb} cert-manager.io certificaterequests${where} (RBAC: ${detail})`,
      );
    }
    if (code === undefined || code === 429 || code >= 500) {
      return new UnavailableError(
        `the API server is unreachable (${verb} certificaterequests: ${detail}); kubelet will retry`,
      );
    }
    return new InternalError(`${verb} certificaterequests${where} failed: ${detail}`);
  }
}

/**
 * A kubeconfig for the same cluster as `base` that authenticates with `token` only (no client
 * certificate, exec plugin or token file of the driver's own user).
 */
export function kubeConfigWithToken(lib: ClientLibrary, base: KubeConfig, token: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new InternalError('the kubeconfig has no current cluster');
  const kc = new lib.KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'pod', token }],
    contexts: [{ name: 'pod', cluster: cluster.name, user: 'pod' }],
    currentContext: 'pod',
  });
  return reuseConnections(kc);
}
