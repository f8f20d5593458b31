import { describe, it, expect } from 'vitest';
import { Code } from '../common/errors.js';
import { KUBELET_KEYS, KubeletKey, isEphemeral, parsePodInfo } from './pod-info.js';
import { POD, catchInvalid } from './test-helpers.js';

const context = (): Record<string, string> => ({
  [KubeletKey.podName]: POD.name,
  [KubeletKey.podNamespace]: POD.namespace,
  [KubeletKey.podUid]: POD.uid,
  [KubeletKey.serviceAccountName]: POD.serviceAccount,
  [KubeletKey.ephemeral]: 'true',
  [KubeletKey.serviceAccountTokens]: '{"aud":{"token":"secret"}}',
});

describe('parsePodInfo', () => {
  it('reads the pod identity', () => {
    expect(parsePodInfo(context())).toEqual(POD);
  });

  it('accepts a pod name that is a DNS subdomain', () => {
    expect(parsePodInfo({ ...context(), [KubeletKey.podName]: 'web.v2-0' }).name).toBe('web.v2-0');
  });

  it.each([KubeletKey.podName, KubeletKey.podNamespace, KubeletKey.podUid, KubeletKey.serviceAccountName])(
    'rejects a missing or empty %s',
    (key) => {
      for (const ctx of [
        { ...context(), [key]: '' },
        Object.fromEntries(Object.entries(context()).filter(([k]) => k !== key)),
      ]) {
        const e = catchInvalid(() => parsePodInfo(ctx));
        expect(e.code).toBe(Code.INVALID_ARGUMENT);
        expect(e.field).toBe(key);
        expect(e.reason).toContain('podInfoOnMount: true');
      }
    },
  );

  it.each([
    { key: KubeletKey.podName, value: 'Web-0', phrase: 'DNS-1123 subdomain' },
    { key: KubeletKey.podName, value: 'web_0', phrase: 'DNS-1123 subdomain' },
    { key: KubeletKey.podNamespace, value: 'shop.eu', phrase: 'DNS-1123 label' },
    { key: KubeletKey.podNamespace, value: 'a'.repeat(64), phrase: 'at most 63' },
    { key: KubeletKey.podUid, value: 'ABCDEF', phrase: 'must be a pod UID' },
    { key: KubeletKey.podUid, value: '../etc', phrase: 'must be a pod UID' },
    { key: KubeletKey.podUid, value: '-abc', phrase: 'must be a pod UID' },
    { key: KubeletKey.serviceAccountName, value: 'Default', phrase: 'DNS-1123 subdomain' },
  ])('rejects $key=$value', ({ key, value, phrase }) => {
    const e = catchInvalid(() => parsePodInfo({ ...context(), [key]: value }));
    expect(e.field).toBe(key);
    expect(e.reason).toContain(phrase);
  });
});

describe('isEphemeral', () => {
  it('accepts "true"', () => {
    expect(isEphemeral(context())).toBe(true);
  });

  it.each([
    { value: 'false', phrase: "got 'false'" },
    { value: 'True', phrase: "got 'True'" },
    { value: undefined, phrase: 'it is missing' },
  ])('rejects $value', ({ value, phrase }) => {
    const ctx = context();
    if (value === undefined) delete ctx[KubeletKey.ephemeral];
    else ctx[KubeletKey.ephemeral] = value;
    const e = catchInvalid(() => isEphemeral(ctx));
    expect(e.field).toBe(KubeletKey.ephemeral);
    expect(e.reason).toContain('only inline ephemeral volumes');
    expect(e.reason).toContain(phrase);
  });
});

describe('KUBELET_KEYS', () => {
  it('holds every csi.storage.k8s.io key kubelet sends', () => {
    expect([...KUBELET_KEYS].sort()).toEqual(Object.keys(context()).sort());
  });
});
