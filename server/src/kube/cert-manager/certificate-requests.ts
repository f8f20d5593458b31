/**
 * The Kubernetes adapter of cert-manager mode's CertificateRequest ports: cert-manager.io/v1
 * CertificateRequests as plain JSON requests (KubeJson: kube-access.ts picks node:https or the
 * client library), as the driver's account or as a pod (the driver's cluster settings and the pod's
 * bearer token). API failures become
 * DomainErrors: 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED (naming the identity and the RBAC
 * verb), 404 on create → FAILED_PRECONDITION (cert-manager's API is not installed), 429/5xx/network
 * or no answer within `callTimeoutMs` or a list whose continue token keeps expiring → UNAVAILABLE,
 * anything else → INTERNAL. Lists are read page by page (paged-list.ts).
 */
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
import { describeKubeError, kubeStatusCode } from '../client/kube-errors.js';
import { jsonPages, listAll, ListExpiredError } from '../client/paged-list.js';
import type { KubeJson } from '../client/kube-json.js';

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
  /** Requests as the identity to act as (`KubeAccess.json` or `asToken(token)`). */
  json: KubeJson;
  /** Named in error messages: "the driver's service account", "service account apps/web". */
  who: string;
  /** Bound on each API call; default 10 s. */
  callTimeoutMs?: number;
}

const RESOURCE = `/apis/${GROUP}/${VERSION}`;
/** All namespaces' requests (the list of this node's, by label). */
export const CERTIFICATE_REQUESTS_PATH = `${RESOURCE}/${PLURAL}`;
const nsPath = (namespace: string) => `${RESOURCE}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}`;
const objectPath = (namespace: string, name: string) => `${nsPath(namespace)}/${encodeURIComponent(name)}`;

/** CertificateRequests as one identity. */
export class CertificateRequestApi implements CertificateRequestClient, CertificateRequestJanitorClient {
  private readonly json: KubeJson;
  private readonly timeoutMs: number;

  constructor(private readonly o: CertificateRequestApiOptions) {
    this.json = o.json;
    this.timeoutMs = o.callTimeoutMs ?? 10_000;
  }

  async create(req: NewCertificateRequest): Promise<{ name: string }> {
    const created = (await this.call('create', req.namespace, () =>
      this.json.request('POST', nsPath(req.namespace), certificateRequestObject(req)),
    )) as CrObject;
    const name = created.metadata?.name;
    if (!name) throw new InternalError('the API server returned a CertificateRequest without a name');
    return { name };
  }

  async get(namespace: string, name: string): Promise<CertificateRequestView | undefined> {
    try {
      const o = (await this.call('get', namespace, () =>
        this.json.request('GET', objectPath(namespace, name)),
      )) as CrObject;
      return viewOf(o);
    } catch (e) {
      if ((e as { notFound?: boolean }).notFound) return undefined;
      throw e;
    }
  }

  async listByLabel(key: string, value: string): Promise<CertificateRequestView[]> {
    const read = jsonPages<CrObject>(this.json, CERTIFICATE_REQUESTS_PATH, {
      labelSelector: `${key}=${value}`,
    });
    const list = await this.call('list', '', () => listAll({ what: PLURAL, read, map: viewOf }));
    return list.items;
  }

  async delete(namespace: string, name: string): Promise<void> {
    try {
      await this.call('delete', namespace, () => this.json.request('DELETE', objectPath(namespace, name)));
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
