import { describe, expect, it } from 'vitest';
import { loadIssuerConfig } from './config.js';
import { ConfigError } from './settings.js';

const secretBase = { CA_SECRET_NAME: 'csi-ca-secret', ISSUER_AUTH: 'kubernetes' };

describe('issuer config: Kubernetes settings', () => {
  it('defaults ISSUER_AUTH=kubernetes settings and takes the CA from the Secret', () => {
    const c = loadIssuerConfig([], secretBase);
    expect(c).toMatchObject({
      issuerAuth: 'kubernetes',
      caCertFile: '',
      caKeyFile: '',
      caSecret: { name: 'csi-ca-secret', namespace: 'kube-system' },
      kubernetesAuth: {
        tokenAudience: 'csi.k8s.cert-driver',
        clusterDomain: 'cluster.local',
        trustDomain: 'cluster.local',
        allowedDnsNames: [],
      },
    });
    expect(c.kubeconfig).toBeUndefined();
  });

  it('reads every setting, from flags too', () => {
    const c = loadIssuerConfig(
      ['--ca-secret-namespace=certs', '--kubeconfig=/etc/kube/config', '--trust-domain=example.org'],
      {
        ...secretBase,
        ISSUER_TOKEN_AUDIENCE: 'issuer.example',
        CLUSTER_DOMAIN: 'k8s.example',
        ISSUER_ALLOWED_DNS_NAMES: '${SERVICE_ACCOUNT}.${POD_NAMESPACE}.svc, *.apps.example.com',
      },
    );
    expect(c).toMatchObject({
      caSecret: { name: 'csi-ca-secret', namespace: 'certs' },
      kubeconfig: '/etc/kube/config',
      kubernetesAuth: {
        tokenAudience: 'issuer.example',
        clusterDomain: 'k8s.example',
        trustDomain: 'example.org',
        allowedDnsNames: ['${SERVICE_ACCOUNT}.${POD_NAMESPACE}.svc', '*.apps.example.com'],
      },
    });
  });

  it('defaults ISSUER_AUTH to kubernetes in a pod and still requires it outside one', () => {
    const inPod = loadIssuerConfig([], {
      CA_SECRET_NAME: 'ca',
      KUBERNETES_SERVICE_HOST: '10.0.0.1',
      LISTEN_PLAINTEXT: 'true',
    });
    expect(inPod.issuerAuth).toBe('kubernetes');
    expect(() => loadIssuerConfig([], { CA_SECRET_NAME: 'ca' })).toThrowError(/^ISSUER_AUTH: is required/);
  });

  it('keeps the files with ISSUER_AUTH=none and no Secret', () => {
    const c = loadIssuerConfig([], {
      CA_CERT_FILE: '/ca/tls.crt',
      CA_KEY_FILE: '/ca/tls.key',
      ISSUER_AUTH: 'none',
    });
    expect(c).toMatchObject({ issuerAuth: 'none', caCertFile: '/ca/tls.crt' });
    expect(c.caSecret).toBeUndefined();
  });

  it.each([
    { env: { ...secretBase, CA_CERT_FILE: '/ca/tls.crt' }, setting: 'CA_SECRET_NAME' },
    { env: { ...secretBase, CA_SECRET_NAME: 'Not_A_Name' }, setting: 'CA_SECRET_NAME' },
    { env: { ...secretBase, CA_SECRET_NAMESPACE: 'UPPER' }, setting: 'CA_SECRET_NAMESPACE' },
    { env: { ...secretBase, ISSUER_AUTH: 'oidc' }, setting: 'ISSUER_AUTH' },
    { env: { ...secretBase, TRUST_DOMAIN: 'spiffe://x' }, setting: 'TRUST_DOMAIN' },
    { env: { ...secretBase, CLUSTER_DOMAIN: 'Bad_Domain' }, setting: 'CLUSTER_DOMAIN' },
    {
      env: { ...secretBase, ISSUER_ALLOWED_DNS_NAMES: '${NODE}.example.com' },
      setting: 'ISSUER_ALLOWED_DNS_NAMES',
    },
    {
      env: { ...secretBase, ISSUER_ALLOWED_DNS_NAMES: 'a.*.example.com' },
      setting: 'ISSUER_ALLOWED_DNS_NAMES',
    },
    { env: { ISSUER_AUTH: 'kubernetes' }, setting: 'CA_CERT_FILE' },
  ])('rejects a bad $setting, naming it', ({ env, setting }) => {
    expect(() => loadIssuerConfig([], env)).toThrowError(ConfigError);
    expect(() => loadIssuerConfig([], env)).toThrowError(new RegExp(`^${setting}: `));
  });
});
