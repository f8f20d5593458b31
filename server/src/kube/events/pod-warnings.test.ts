import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { CoreV1Api } from '@kubernetes/client-node';
import { kubernetesPodWarnings } from './pod-warnings.js';

const POD = { namespace: 'apps', name: 'web-1', uid: 'uid-1' };

describe('kubernetesPodWarnings', () => {
  it('creates a core/v1 Warning Event on the pod', async () => {
    const calls: { namespace: string; body: Record<string, unknown> }[] = [];
    const core = {
      createNamespacedEvent: (req: { namespace: string; body: Record<string, unknown> }) => {
        calls.push(req);
        return Promise.resolve({});
      },
    } as unknown as CoreV1Api;
    await kubernetesPodWarnings({ core, nodeId: 'node-a', logger: pino({ level: 'silent' }) }).warn(
      POD,
      'CertificateRequestDenied',
      'x'.repeat(2000),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.namespace).toBe('apps');
    expect(calls[0]!.body).toMatchObject({
      metadata: { generateName: 'web-1.', namespace: 'apps' },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'apps', uid: 'uid-1' },
      type: 'Warning',
      reason: 'CertificateRequestDenied',
      source: { component: 'csi.k8s.cert-driver', host: 'node-a' },
      count: 1,
    });
    expect((calls[0]!.body.message as string).length).toBe(1024);
  });

  it('never rejects: a refused Event is only logged', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(l) });
    const core = {
      createNamespacedEvent: () =>
        Promise.reject(
          Object.assign(new Error('HTTP 403'), { code: 403, body: '{"message":"forbidden"}', headers: {} }),
        ),
    } as unknown as CoreV1Api;
    await expect(
      kubernetesPodWarnings({ core, nodeId: 'node-a', logger }).warn(POD, 'CertificateRequestFailed', 'm'),
    ).resolves.toBeUndefined();
    expect(lines.join('')).toContain('could not record a pod Event');
    expect(lines.join('')).toContain('HTTP 403: forbidden');
  });
});
