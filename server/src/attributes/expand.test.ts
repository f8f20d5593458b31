import { describe, it, expect } from 'vitest';
import { expandVariables, expansionValues } from './expand.js';
import { POD, catchInvalid } from './test-helpers.js';

const F = 'csi.k8s.cert-driver/dns-names';
const vars = expansionValues(POD);

describe('expandVariables', () => {
  it.each([
    { value: '${POD_NAME}', want: 'web-0' },
    { value: '${POD_NAMESPACE}', want: 'shop' },
    { value: '${POD_UID}', want: '3f1c2a9e-8d4b-4c5e-9f0a-1b2c3d4e5f60' },
    { value: '${SERVICE_ACCOUNT_NAME}', want: 'web-sa' },
    { value: '${POD_NAME}.${POD_NAMESPACE}.svc', want: 'web-0.shop.svc' },
    { value: 'plain.example.com', want: 'plain.example.com' },
    { value: 'price $5', want: 'price $5' },
    { value: 'end$', want: 'end$' },
    { value: '$$', want: '$$' },
  ])('expands "$value"', ({ value, want }) => {
    expect(expandVariables(F, value, vars)).toBe(want);
  });

  it.each([
    {
      value: '${POD_IP}',
      phrase: "unknown variable '${POD_IP}'; supported variables: ${POD_NAME}, ${POD_NAMESPACE}",
    },
    { value: 'a.${pod_name}', phrase: "unknown variable '${pod_name}'" },
    { value: '${}', phrase: "unknown variable '${}'" },
    { value: '${POD_NAME', phrase: "unterminated '${'" },
    { value: '$POD_NAME.svc', phrase: "unsupported variable reference '$POD_NAME'; write '${POD_NAME}'" },
    { value: '$HOME', phrase: "unsupported variable reference '$HOME'; supported variables" },
  ])('rejects "$value"', ({ value, phrase }) => {
    const e = catchInvalid(() => expandVariables(F, value, vars));
    expect(e.field).toBe(F);
    expect(e.reason).toContain(phrase);
  });
});
