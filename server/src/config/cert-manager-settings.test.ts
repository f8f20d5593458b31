import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNodeConfig } from './config.js';
import { configErrorOf } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'ccd-cm-settings-'));
const KUBECONFIG = join(dir, 'kubeconfig');
writeFileSync(KUBECONFIG, '{}');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cert-manager settings of the node', () => {
  it('is off by default', () => {
    expect(loadNodeConfig([], {}).certManager).toBeUndefined();
  });

  it('defaults: 60 s timeout, the pod identity, the API server audience, cleanup every 5 min', () => {
    expect(loadNodeConfig([], { CERT_MANAGER_ENABLED: 'true' }).certManager).toEqual({
      timeoutMs: 60_000,
      identity: 'pod',
      tokenAudience: '',
      cleanupIntervalMs: 300_000,
    });
  });

  it('reads every setting from flags and env', () => {
    const cfg = loadNodeConfig(
      [
        '--cert-manager-enabled=true',
        '--cert-manager-timeout=5s',
        '--cert-manager-identity=driver',
        '--cert-manager-cleanup-interval=30s',
        `--kubeconfig=${KUBECONFIG}`,
      ],
      { CERT_MANAGER_TOKEN_AUDIENCE: 'https://kubernetes.default.svc' },
    );
    expect(cfg.certManager).toEqual({
      timeoutMs: 5000,
      identity: 'driver',
      tokenAudience: 'https://kubernetes.default.svc',
      cleanupIntervalMs: 30_000,
    });
    expect(cfg.kubeconfig).toBe(KUBECONFIG);
  });

  /** `env` with cert-manager mode switched on. */
  const enabled = (env: Record<string, string>) => ({ CERT_MANAGER_ENABLED: 'true', ...env });

  it.each([
    { name: 'a bad switch', env: { CERT_MANAGER_ENABLED: 'yes' }, setting: 'CERT_MANAGER_ENABLED' },
    {
      name: 'a setting without the mode',
      env: { CERT_MANAGER_TIMEOUT: '5s' },
      setting: 'CERT_MANAGER_TIMEOUT',
    },
    { name: 'a zero timeout', env: enabled({ CERT_MANAGER_TIMEOUT: '0s' }), setting: 'CERT_MANAGER_TIMEOUT' },
    {
      name: "a timeout past kubelet's",
      env: enabled({ CERT_MANAGER_TIMEOUT: '2m' }),
      setting: 'CERT_MANAGER_TIMEOUT',
    },
    {
      name: 'an unknown identity',
      env: enabled({ CERT_MANAGER_IDENTITY: 'node' }),
      setting: 'CERT_MANAGER_IDENTITY',
    },
    {
      name: 'a zero interval',
      env: enabled({ CERT_MANAGER_CLEANUP_INTERVAL: '0s' }),
      setting: 'CERT_MANAGER_CLEANUP_INTERVAL',
    },
    {
      name: 'a missing kubeconfig',
      env: enabled({ KUBECONFIG: join(dir, 'absent') }),
      setting: 'KUBECONFIG',
    },
    {
      name: 'a control character in the audience',
      env: enabled({ CERT_MANAGER_TOKEN_AUDIENCE: 'a\tb' }),
      setting: 'CERT_MANAGER_TOKEN_AUDIENCE',
    },
    {
      name: "the issuer's audience as the API-token audience",
      env: enabled({
        ISSUER_TOKEN_AUDIENCE: 'issuer.example',
        CERT_MANAGER_TOKEN_AUDIENCE: 'issuer.example',
      }),
      setting: 'CERT_MANAGER_TOKEN_AUDIENCE',
    },
  ])('rejects $name naming $setting', ({ env, setting }) => {
    const err = configErrorOf(() => loadNodeConfig([], env));
    expect(err.setting).toBe(setting);
  });
});
