import { describe, it, expect } from 'vitest';
import { expandVariables, expansionValues } from './expand.js';
import { POD, catchInvalid } from './test-helpers.js';

const F = 'csi.k8s.cert-driver/dns-names';
const vars = expansionValues(POD);

describe('expandVariables', () => {
  it.each([
    { value: '${POD_NAME}', want: POD.name },
    { value: '${POD_NAMESPACE}', want: POD.namespace },
    { value: '${POD_UID}', want: POD.uid },
    { value: '${SERVICE_ACCOUNT_NAME}', want: POD.serviceAccount },
    { value: '${POD_NAME}.${POD_NAMESPACE}.svc', want: 'web-0.shop.svc' },
  ])('expands "$value"', ({ value, want }) => {
    expect(expandVariables(F, value, vars)).toBe(want);
  });

  it.each(['plain.example.com', 'price $5', 'end$', '$$'])('leaves "%s" as it is', (value) => {
    expect(expandVariables(F, value, vars)).toBe(value);
  });

  /** Each value expandVariables refuses, and a phrase of why. */
  const REFUSED: Record<string, string> = {
    '${POD_IP}': "unknown variable '${POD_IP}'; supported variables: ${POD_NAME}, ${POD_NAMESPACE}",
    'a.${pod_name}': "unknown variable '${pod_name}'",
    '${}': "unknown variable '${}'",
    '${POD_NAME': "unterminated '${'",
    '$POD_NAME.svc': "unsupported variable reference '$POD_NAME'; write '${POD_NAME}'",
    $HOME: "unsupported variable reference '$HOME'; supported variables",
  };
  it.each(Object.entries(REFUSED))('rejects "%s"', (value, phrase) => {
    const e = catchInvalid(() => expandVariables(F, value, vars));
    expect(e.field).toBe(F);
    expect(e.reason).toContain(phrase);
  });
});
