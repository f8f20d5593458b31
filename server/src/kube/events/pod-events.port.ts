/**
 * The PodEventRecorder port: Events about a pod, shown by `kubectl describe pod` and `kubectl get
 * events`. Recording is best effort and returns at once: it never throws, never waits for the API
 * server, and repeats of the same event are folded into one Event with a count. Callers must not
 * put key material, tokens or CSR bytes into `message` (the recorder cannot tell).
 * Adapter: `KubernetesPodEventRecorder` (pod-events.ts); `noopPodEventRecorder` when Events are off.
 */
import type { PodRef } from '../../attributes/certificate-spec.js';

export type { PodRef };

export interface PodEvent {
  pod: PodRef;
  /** Warning for failures and denials; Normal for things going as planned. */
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, short and stable: IssuanceDenied, IssuerUnavailable, RenewalFailed, ... */
  reason: string;
  /** One human line; cut to 1024 characters. */
  message: string;
  /** What was being done: Publish, Renew, Issue. Optional. */
  action?: string | undefined;
  /**
   * Repeats with the same pod, reason and key are one Event (count + last time + latest message).
   * Default: the reason alone. A volume id or a CertificateRequest name are good keys.
   */
  key?: string | undefined;
}

export interface PodEventRecorder {
  record(event: PodEvent): void;
  /** Sends what is pending (bounded by `timeoutMs`) and stops recording. */
  close(timeoutMs?: number): Promise<void>;
}

export const noopPodEventRecorder: PodEventRecorder = {
  record: () => undefined,
  close: () => Promise.resolve(),
};
