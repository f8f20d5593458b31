/**
 * `bin/csi-cert-driver approver` processes against the test control plane, and what the tests read
 * back: CertificateRequests (as any user), their conditions and Events, and the leader Lease.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Lease,
} from '@kubernetes/client-node';
import { DriverProcess } from '../support/driver-process.js';
import { REPO_ROOT, ensureBuilt } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import { freeLoopbackPort } from '../support/ports.js';

export const CR = { group: 'cert-manager.io', version: 'v1', plural: 'certificaterequests' } as const;

export interface CrCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface CrObject {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: Record<string, unknown>;
  status?: { conditions?: CrCondition[] };
}

export interface ApproverProcess {
  proc: DriverProcess;
  podName: string;
  healthUrl: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts an approver with `settings` (HEALTH_LISTEN_ADDR and POD_NAME added) and waits for /readyz. */
export async function startApprover(o: {
  suite: string;
  podName: string;
  cwd: string;
  settings: Record<string, string>;
}): Promise<ApproverProcess> {
  ensureBuilt();
  const logDir = join(REPO_ROOT, 'test-results', 'e2e', o.suite);
  mkdirSync(logDir, { recursive: true });
  const port = await freeLoopbackPort();
  const proc = new DriverProcess({
    role: 'approver',
    cwd: o.cwd,
    logFile: join(logDir, `${o.podName}.log`),
    settings: {
      LOG_LEVEL: 'debug',
      POD_NAME: o.podName,
      HEALTH_LISTEN_ADDR: `127.0.0.1:${port}`,
      ...o.settings,
    },
  });
  const healthUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${o.podName} to be ready`,
      async () => {
        if (proc.exitStatus) throw new Error(`approver exited ${JSON.stringify(proc.exitStatus)}`);
        const res = await fetch(`${healthUrl}/readyz`);
        return res.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  } catch (e) {
    await proc.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n--- approver log ---\n${proc.tail(30)}`);
  }
  return {
    proc,
    podName: o.podName,
    healthUrl,
    stop: async (signal = 'SIGTERM') => void (await proc.kill(signal)),
  };
}

/** CertificateRequests through one user's kubeconfig. */
export class CrClient {
  private readonly api: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async create(namespace: string, name: string, spec: Record<string, unknown>): Promise<CrObject> {
    return (await this.api.createNamespacedCustomObject({
      ...CR,
      namespace,
      body: { apiVersion: 'cert-manager.io/v1', kind: 'CertificateRequest', metadata: { name }, spec },
    })) as CrObject;
  }

  async get(namespace: string, name: string): Promise<CrObject> {
    return (await this.api.getNamespacedCustomObject({ ...CR, namespace, name })) as CrObject;
  }

  /** Sets a condition through the status subresource, as `cmctl approve` does. */
  async setCondition(namespace: string, name: string, condition: CrCondition): Promise<CrObject> {
    const cr = await this.get(namespace, name);
    cr.status = { conditions: [...(cr.status?.conditions ?? []), condition] };
    return (await this.api.replaceNamespacedCustomObjectStatus({
      ...CR,
      namespace,
      name,
      body: cr,
    })) as CrObject;
  }
}

/** The Approved or Denied condition once one is set. */
export async function waitForDecision(crs: CrClient, namespace: string, name: string): Promise<CrCondition> {
  return waitFor(
    `a decision on ${namespace}/${name}`,
    async () => {
      const cr = await crs.get(namespace, name);
      return cr.status?.conditions?.find((c) => c.type === 'Approved' || c.type === 'Denied');
    },
    { timeoutMs: 20_000, intervalMs: 100 },
  );
}

export async function readLease(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1Lease | undefined> {
  try {
    return await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ name, namespace });
  } catch {
    return undefined;
  }
}

/** Events recorded on one object. */
export async function eventsOf(kc: KubeConfig, namespace: string, name: string) {
  const res = await kc
    .makeApiClient(CoreV1Api)
    .listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
  return res.items;
}
