import { describe, expect, it } from 'vitest';
import { expandDnsPattern, matchesDnsPattern, parseDnsPatterns } from './dns-patterns.js';

const values = {
  POD_NAME: 'web-1',
  POD_NAMESPACE: 'apps',
  SERVICE_ACCOUNT: 'web',
  CLUSTER_DOMAIN: 'cluster.local',
};

describe('parseDnsPatterns', () => {
  it('splits, trims, lower-cases and keeps placeholders', () => {
    expect(parseDnsPatterns('S', ' ${service_account}.${POD_NAMESPACE}.svc , *.Example.com,,')).toEqual([
      '${SERVICE_ACCOUNT}.${POD_NAMESPACE}.svc',
      '*.example.com',
    ]);
  });

  it.each([
    {
      name: 'unknown placeholder',
      text: '${NODE_NAME}.example.com',
      want: /^S: unknown placeholder \$\{NODE_NAME\}/,
    },
    {
      name: 'wildcard inside',
      text: 'a.*.example.com',
      want: /^S: 'a\.\*\.example\.com' is not a DNS name pattern/,
    },
    { name: 'bad label', text: 'under_score.example.com', want: /is not a DNS name pattern/ },
    { name: 'empty label', text: 'a..b', want: /is not a DNS name pattern/ },
  ])('rejects $name naming the setting', ({ text, want }) => {
    expect(() => parseDnsPatterns('S', text)).toThrowError(want);
  });
});

describe('matchesDnsPattern', () => {
  it.each([
    { pattern: '${POD_NAME}.${POD_NAMESPACE}.svc', name: 'web-1.apps.svc', want: true },
    { pattern: '${POD_NAME}.${POD_NAMESPACE}.svc', name: 'WEB-1.Apps.svc.', want: true },
    { pattern: '${POD_NAME}.${POD_NAMESPACE}.svc', name: 'web-2.apps.svc', want: false },
    { pattern: '*.${POD_NAMESPACE}.example.com', name: 'api.apps.example.com', want: true },
    { pattern: '*.${POD_NAMESPACE}.example.com', name: 'a.b.apps.example.com', want: false },
    { pattern: '*.${POD_NAMESPACE}.example.com', name: 'apps.example.com', want: false },
    { pattern: '*.${POD_NAMESPACE}.example.com', name: '.apps.example.com', want: false },
    { pattern: '*.${POD_NAMESPACE}.example.com', name: 'api.other.example.com', want: false },
  ])('$name against $pattern → $want', ({ pattern, name, want }) => {
    expect(matchesDnsPattern(name, expandDnsPattern(pattern, values))).toBe(want);
  });
});
