/**
 * cert-manager mode: the Issuer port backed by cert-manager. The node creates a cert-manager.io/v1
 * CertificateRequest in the pod's namespace (owned by the pod, labelled with the node and volume),
 * as the pod's service account (its API token from kubelet) or as the driver's own account, follows
 * it through the node's watch of its requests (polling with GET when there is none) until
 * cert-manager answers or CERT_MANAGER_TIMEOUT passes, and returns status.certificate/ca.
 * Outcomes (see ADR 9): Ready → the certificate, and the request is deleted; Denied →
 * PERMISSION_DENIED; Failed or InvalidRequest → FAILED_PRECONDITION; no answer in time →
 * DEADLINE_EXCEEDED (the request is deleted); API server unreachable → UNAVAILABLE. Denied, failed
 * and timed-out requests also become a Warning Event on the pod.
 */
import { X509Certificate } from 'node:crypto';
import { safeText } from '../common/safe-text.js';
import type { Logger } from '../common/logger.js';
import {
  Code,
  DomainError,
  FailedPreconditionError,
  InternalError,
  PermissionDeniedError,
  UnavailableError,
} from '../common/errors.js';
import { certificatePems, joinPem } from '../pki/pem.js';
import {
  NODE_LABEL,
  VOLUME_ANNOTATION,
  VOLUME_LABEL,
  labelValue,
  type CertificateRequestClient,
  type CertificateRequestJanitorClient,
  type CertificateRequestUpdates,
  type CertificateRequestView,
  type IssuerRefName,
  type PodWarningReason,
} from './certificate-requests.port.js';
import type { PodEventRecorder, PodRef } from '../kube/events/pod-events.port.js';
import type { Issuer, SignRequest, SignedCertificate } from './issuer.port.js';

export type CertManagerIdentity = 'pod' | 'driver';

/** cert-manager did not answer within CERT_MANAGER_TIMEOUT. kubelet retries the publish. */
export class CertificateRequestTimeoutError extends DomainError {
  readonly code = Code.DEADLINE_EXCEEDED;
}

export interface CertManagerIssuerOptions {
  /** `pod`: create requests as the pod's service account; `driver`: as the node's own account. */
  identity: CertManagerIdentity;
  /** Key of the pod's API-server token in kubelet's token map ("" = the API server's default audience). */
  tokenAudience: string;
  /** The driver's own account: creates requests in `driver` mode, always deletes them. */
  driver: CertificateRequestClient & CertificateRequestJanitorClient;
  /** A client that authenticates with a pod's token; `who` names the identity in errors. */
  asToken(token: string, who: string): CertificateRequestClient;
  /**
   * Where the pod's Warning Events go (Denied, Failed, Timeout): the node's one recorder, or the
   * no-op when POD_EVENTS is on and the status reporter already records each failure.
   */
  events: PodEventRecorder;
  nodeId: string;
  timeoutMs: number;
  logger: Logger;
  /** Poll delays: the first, doubled up to `max`. Default 100 ms to 1 s. */
  poll?: { firstMs: number; maxMs: number } | undefined;
  /**
   * This node's requests through a watch (ADR 20). While it is synced, a request is read from it
   * instead of polled: a GET only when no event came for `watchRecheckMs` (default 2 s), so a
   * stalled watch slows a publish down, never stops it. Absent or not synced: polling as above.
   */
  updates?: CertificateRequestUpdates | undefined;
  watchRecheckMs?: number | undefined;
}

type Outcome =
  | { kind: 'ready'; cr: CertificateRequestView }
  | { kind: 'denied' | 'failed'; cr: CertificateRequestView; reason: string; message: string }
  | { kind: 'timeout'; cr: CertificateRequestView | undefined };

/** What cert-manager's conditions say, or undefined while it is still working on the request. */
export function outcomeOf(cr: CertificateRequestView): Outcome | undefined {
  const cond = (type: string) => cr.conditions.find((c) => c.type === type);
  const denied = cond('Denied');
  if (denied?.status === 'True') {
    return { kind: 'denied', cr, reason: denied.reason ?? 'Denied', message: denied.message ?? '' };
  }
  const ready = cond('Ready');
  if (ready?.status === 'True' && cr.certificate) return { kind: 'ready', cr };
  if (ready?.status === 'False' && (ready.reason === 'Failed' || ready.reason === 'Denied')) {
    return { kind: 'failed', cr, reason: ready.reason, message: ready.message ?? '' };
  }
  const invalid = cond('InvalidRequest');
  if (invalid?.status === 'True') {
    return { kind: 'failed', cr, reason: invalid.reason ?? 'InvalidRequest', message: invalid.message ?? '' };
  }
  return undefined;
}

/** Go duration string of whole seconds, as metav1.Duration prints it: 3600 → "1h0m0s". */
export function goDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function refText(ref: IssuerRefName): string {
  return `${ref.kind}.${ref.group}/${ref.name}`;
}

/**
 * The cert-manager adapter of the Issuer port. `inFlight` holds the volume ids it is creating or
 * waiting for a request for (from before the create is sent), so the cleanup never deletes one of
 * their requests, even one it lists before the create's answer arrives here.
 */
export class CertManagerIssuer implements Issuer {
  readonly inFlight = new Set<string>();
  private closed = false;

  constructor(private readonly o: CertManagerIssuerOptions) {}

  async sign(req: SignRequest): Promise<SignedCertificate> {
    const ref = req.issuerRef;
    if (!ref?.name) throw new InternalError('cert-manager issuer called for a volume without issuer-name');
    const issuerRef: IssuerRefName = { name: ref.name, kind: ref.kind, group: ref.group };
    const client = this.clientFor(req);
    const deadline = Date.now() + this.o.timeoutMs;
    this.inFlight.add(req.volumeId);
    try {
      return await this.createAndWait(req, client, issuerRef, deadline);
    } finally {
      this.inFlight.delete(req.volumeId);
    }
  }

  private async createAndWait(
    req: SignRequest,
    client: CertificateRequestClient,
    issuerRef: IssuerRefName,
    deadline: number,
  ): Promise<SignedCertificate> {
    const { namespace } = req.pod;
    const { name } = await client.create({
      namespace,
      generateName: `${req.pod.name}-`,
      labels: { [NODE_LABEL]: labelValue(this.o.nodeId), [VOLUME_LABEL]: labelValue(req.volumeId) },
      annotations: { [VOLUME_ANNOTATION]: req.volumeId },
      owner: { name: req.pod.name, uid: req.pod.uid },
      csrPem: req.csrPem,
      issuerRef,
      duration: goDuration(req.durationSeconds),
      isCA: req.isCA,
      usages: req.usages,
      username:
        this.o.identity === 'pod'
          ? `system:serviceaccount:${namespace}:${req.pod.serviceAccount}`
          : undefined,
    });
    const key = `${namespace}/${name}`;
    const log = this.o.logger.child({
      certificateRequest: key,
      volumeId: req.volumeId,
      issuer: refText(issuerRef),
    });
    log.debug('CertificateRequest created; waiting for cert-manager');
    const outcome = await this.wait(client, namespace, name, deadline);
    return this.settle(outcome, { req, key, issuerRef, log });
  }

  /** cert-manager has no bundle of its own; each certificate brings its CA (status.ca). */
  caBundle(): Promise<string> {
    return Promise.resolve('');
  }

  close(): void {
    this.closed = true;
  }

  private clientFor(req: SignRequest): CertificateRequestClient {
    if (this.o.identity === 'driver') return this.o.driver;
    const token = req.tokens?.[this.o.tokenAudience];
    if (!token) {
      throw new FailedPreconditionError(
        `cert-manager mode creates the CertificateRequest as the pod's service account, but kubelet passed no token ` +
          `for audience "${this.o.tokenAudience}": add {audience: "${this.o.tokenAudience}"} to the CSIDriver's ` +
          `tokenRequests (with requiresRepublish: true), or set CERT_MANAGER_IDENTITY=driver`,
      );
    }
    return this.o.asToken(token, `service account ${req.pod.namespace}/${req.pod.serviceAccount}`);
  }

  /** Polls until cert-manager decides or the deadline passes. API errors are retried until then. */
  private async wait(
    client: CertificateRequestClient,
    namespace: string,
    name: string,
    deadline: number,
  ): Promise<Outcome> {
    const { firstMs, maxMs } = this.o.poll ?? { firstMs: 100, maxMs: 1000 };
    const updates = this.o.updates;
    const recheckMs = this.o.watchRecheckMs ?? 2000;
    let delay = firstMs;
    let last: CertificateRequestView | undefined;
    let lastError: UnavailableError | undefined;
    // True when the watch brought an event for this request since the last read.
    let fresh = false;
    for (let round = 0; ; round++) {
      try {
        let cached = updates?.synced() ? updates.get(namespace, name) : undefined;
        if (round === 0 && cached === undefined && updates?.synced()) {
          fresh = await updates.changed(namespace, name, Math.min(recheckMs, deadline - Date.now()));
          cached = updates.get(namespace, name);
        }
        const cr =
          cached !== undefined && (round === 0 || fresh) ? cached : await client.get(namespace, name);
        if (!cr) {
          throw new UnavailableError(
            `CertificateRequest ${namespace}/${name} was deleted before cert-manager answered; kubelet will retry`,
          );
        }
        last = cr;
        lastError = undefined;
        const outcome = outcomeOf(cr);
        if (outcome) return outcome;
      } catch (e) {
        if (!(e instanceof UnavailableError)) throw e;
        lastError = e;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) {
        if (lastError) throw lastError;
        return { kind: 'timeout', cr: last };
      }
      if (updates?.synced() && !lastError) {
        fresh = await updates.changed(namespace, name, Math.min(recheckMs, left));
      } else {
        fresh = false;
        await new Promise((r) => setTimeout(r, Math.min(delay, left)));
        delay = Math.min(delay * 2, maxMs);
      }
    }
  }

  private async settle(
    outcome: Outcome,
    c: { req: SignRequest; key: string; issuerRef: IssuerRefName; log: Logger },
  ): Promise<SignedCertificate> {
    const pod = { namespace: c.req.pod.namespace, name: c.req.pod.name, uid: c.req.pod.uid };
    const [namespace, name] = c.key.split('/') as [string, string];
    const issuer = refText(c.issuerRef);
    switch (outcome.kind) {
      case 'ready': {
        const signed = this.toSigned(outcome.cr);
        await this.deleteQuietly(namespace, name, c.log);
        c.log.info({ serial: signed.serialHex }, 'CertificateRequest signed by cert-manager');
        return signed;
      }
      case 'denied': {
        const detail = safeText(`${outcome.reason}: ${outcome.message}`);
        this.event(
          pod,
          'CertificateRequestDenied',
          `CertificateRequest ${c.key} for issuer ${issuer} was denied: ${detail}`,
        );
        c.log.warn({ reason: outcome.reason }, 'CertificateRequest denied');
        throw new PermissionDeniedError(
          `cert-manager denied CertificateRequest ${c.key} (issuer ${issuer}): ${detail}`,
        );
      }
      case 'failed': {
        const detail = safeText(`${outcome.reason}: ${outcome.message}`);
        this.event(
          pod,
          'CertificateRequestFailed',
          `CertificateRequest ${c.key} for issuer ${issuer} failed: ${detail}`,
        );
        c.log.warn({ reason: outcome.reason }, 'CertificateRequest failed');
        throw new FailedPreconditionError(`CertificateRequest ${c.key} (issuer ${issuer}) failed: ${detail}`);
      }
      case 'timeout': {
        const seconds = Math.round(this.o.timeoutMs / 1000);
        const state = outcome.cr ? describeConditions(outcome.cr) : 'never read';
        this.event(
          pod,
          'CertificateRequestTimeout',
          `CertificateRequest ${c.key} for issuer ${issuer} was not signed within ${seconds}s (${state}); deleted, kubelet will retry`,
        );
        await this.deleteQuietly(namespace, name, c.log);
        c.log.warn({ state }, 'CertificateRequest timed out');
        throw new CertificateRequestTimeoutError(
          `cert-manager did not sign CertificateRequest ${c.key} (issuer ${issuer}) within ${seconds}s (${state}); kubelet will retry`,
        );
      }
    }
  }

  private toSigned(cr: CertificateRequestView): SignedCertificate {
    const field = `CertificateRequest ${cr.namespace}/${cr.name} status.certificate`;
    let pems: string[];
    try {
      pems = certificatePems(cr.certificate ?? '', field);
    } catch (e) {
      throw new InternalError(`${field} is not PEM: ${e instanceof Error ? e.message : String(e)}`);
    }
    const [leaf, ...chain] = pems;
    if (!leaf) throw new InternalError(`${field} holds no certificate`);
    // Node's own (OpenSSL) parser: serial and validity are all this needs, and the answer check
    // (VerifyingIssuer) reads the rest. @peculiar/x509 cost ~6 ms of CPU per publish here (ADR 25).
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(leaf);
    } catch {
      throw new InternalError(`${field} is not a valid X.509 certificate`);
    }
    let ca = '';
    try {
      ca = cr.ca ? joinPem(certificatePems(cr.ca, 'status.ca')) : '';
    } catch {
      ca = '';
    }
    return {
      certificatePem: leaf,
      chainPem: joinPem(chain),
      caBundlePem: ca,
      // OpenSSL prints the serial as upper-case hex without the sign byte, as certificate-info does.
      serialHex: cert.serialNumber.toLowerCase(),
      notBefore: new Date(Date.parse(cert.validFrom)),
      notAfter: new Date(Date.parse(cert.validTo)),
    };
  }

  private async deleteQuietly(namespace: string, name: string, log: Logger): Promise<void> {
    try {
      await this.o.driver.delete(namespace, name);
    } catch (e) {
      log.warn(
        { err: e instanceof Error ? e.message : String(e) },
        'could not delete the CertificateRequest; cleanup will retry',
      );
    }
  }

  /** Best effort and returns at once: a slow API server must not hold up the answer to kubelet. */
  private event(pod: PodRef, reason: PodWarningReason, message: string): void {
    this.o.events.record({ pod, type: 'Warning', reason, message: safeText(message) });
  }
}

function describeConditions(cr: CertificateRequestView): string {
  if (cr.conditions.length === 0) return 'no conditions yet';
  return cr.conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ');
}
