import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNodeHarness, type NodeHarness } from './support/node-harness.js';

let h: NodeHarness;
beforeAll(async () => {
  h = await startNodeHarness();
});
afterAll(async () => {
  await h.stop();
});

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.SIGNATURE-must-never-be-logged';

/** The base64 body lines of a PEM: any of them in the log would be a leak. */
function pemBodyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
}

it('a publish, renew, unpublish cycle never logs the token or key bytes', async () => {
  const keys: string[] = [];
  await h
    .publish({
      volumeId: 'csi-redact',
      targetPath: '/t/redact',
      attributes: {
        'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
          'csi.k8s.cert-driver': { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
        }),
        'csi.k8s.cert-driver/key-algorithm': 'RSA',
        'csi.k8s.cert-driver/pkcs12-enable': 'true',
        'csi.k8s.cert-driver/pkcs12-password': 'p12-secret-password',
      },
    })
    .catch(async () => {
      // PKCS#12 may not be supported yet: publish without it, the token check is what matters here.
      await h.publish({
        volumeId: 'csi-redact',
        targetPath: '/t/redact',
        attributes: {
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
            'csi.k8s.cert-driver': { token: TOKEN },
          }),
          'csi.k8s.cert-driver/key-algorithm': 'RSA',
        },
      });
    });
  keys.push(new TextDecoder().decode(await h.platform.readFile('csi-redact', 'tls.key')));
  expect(h.issuer.requests.at(-1)?.token).toBe(TOKEN);
  await h.node.renewal.renew('csi-redact');
  keys.push(new TextDecoder().decode(await h.platform.readFile('csi-redact', 'tls.key')));
  expect(keys[1]).not.toBe(keys[0]);
  await h.client.call('Node', 'NodeUnpublishVolume', { volume_id: 'csi-redact', target_path: '/t/redact' });

  const logs = h.logs();
  expect(logs).toContain('volume published');
  expect(logs).toContain('certificate renewed');
  expect(logs).toContain('volume unpublished');
  expect(logs).not.toContain(TOKEN);
  expect(logs).not.toContain('c2VjcmV0LXRva2VuLXBheWxvYWQ');
  expect(logs).not.toContain('p12-secret-password');
  expect(logs).not.toContain('PRIVATE KEY');
  for (const line of keys.flatMap(pemBodyLines)) expect(logs).not.toContain(line);
});

const TOKENS_KEY = 'csi.storage.k8s.io/serviceAccount.tokens';
const tokenMap = (token: string) =>
  JSON.stringify({
    '': { token: `api-${token}`, expirationTimestamp: '2030-01-01T00:00:00Z' },
    'csi.k8s.cert-driver': { token, expirationTimestamp: '2030-01-01T00:00:00Z' },
  });

// CSIDriver serviceAccountTokenInSecrets: true makes kubelet pass the map in the request's secrets.
it('takes tokens from secrets (over the volume context), refreshes them on republish and never logs them', async () => {
  const pod = {
    name: 'web',
    namespace: 'default',
    uid: '00000000-0000-4000-8000-00000000beef',
    serviceAccount: 'web',
  };
  const vol = { volumeId: 'csi-secrets', targetPath: '/t/secrets', pod };
  const first = 'eyJhbGciOiJSUzI1NiJ9.aW4tc2VjcmV0cy0x.first-secret-token';
  const stale = 'eyJhbGciOiJSUzI1NiJ9.aW4tY29udGV4dA.context-token';
  const fresh = 'eyJhbGciOiJSUzI1NiJ9.aW4tc2VjcmV0cy0y.fresh-secret-token';
  await h.publish({ ...vol, secrets: { [TOKENS_KEY]: tokenMap(first) } });
  expect(h.issuer.requests.at(-1)?.token).toBe(first);

  // kubelet's periodic republish brings a fresh token; the next renewal uses it. A map in the volume
  // context too (a mixed kubelet) loses to the one in secrets.
  await h.publish({
    ...vol,
    attributes: { [TOKENS_KEY]: tokenMap(stale) },
    secrets: { [TOKENS_KEY]: tokenMap(fresh) },
  });
  await h.node.renewal.renew('csi-secrets');
  expect(h.issuer.requests.at(-1)?.token).toBe(fresh);
  await h.client.call('Node', 'NodeUnpublishVolume', {
    volume_id: vol.volumeId,
    target_path: vol.targetPath,
  });

  const logs = h.logs();
  for (const t of [first, stale, fresh]) {
    expect(logs).not.toContain(t);
    expect(logs).not.toContain(t.split('.')[1]);
  }
});

it('still takes tokens from the volume context when secrets hold none', async () => {
  const vol = { volumeId: 'csi-context', targetPath: '/t/context' };
  const token = 'eyJhbGciOiJSUzI1NiJ9.aW4tY29udGV4dC1vbmx5.context-only';
  await h.publish({ ...vol, attributes: { [TOKENS_KEY]: tokenMap(token) }, secrets: { other: 'x' } });
  expect(h.issuer.requests.at(-1)?.token).toBe(token);
  await h.client.call('Node', 'NodeUnpublishVolume', {
    volume_id: vol.volumeId,
    target_path: vol.targetPath,
  });
});
