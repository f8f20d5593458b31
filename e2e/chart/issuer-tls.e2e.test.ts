/**
 * TLS between the node drivers and the issuer in the chart: on by default with a transport CA of the
 * chart's own (not the pod-signing CA), a serving certificate OpenSSL accepts for the name the nodes
 * verify, the files mounted where the settings point; mTLS and plaintext only when asked for.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Container,
  V1DaemonSet,
  V1Deployment,
  V1Secret,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../support/openssl.js';
import { HELM, NAMESPACE, find, helmTemplate, render, toolsMissing } from './chart.js';

const ISSUER_SVC = 'certs-csi-cert-driver-issuer';
const dir = mkdtempSync(join(tmpdir(), 'chart-tls-'));

function env(c: V1Container): Record<string, string | undefined> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
}

function driver(w: V1DaemonSet | V1Deployment, name: string): V1Container {
  const c = w.spec!.template.spec!.containers.find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
}

/** The volume mounted at the directory of `file` in `c`, and that volume's source. */
function sourceOf(w: V1DaemonSet | V1Deployment, c: V1Container, file: string) {
  const mount = (c.volumeMounts ?? []).find((m) => file.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${file} is not on a mount of ${c.name}`);
  const vol = w.spec!.template.spec!.volumes!.find((v) => v.name === mount.name)!;
  return { mount, vol, key: file.slice(mount.mountPath.length + 1) };
}

const text = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

function writePem(name: string, pem: string): string {
  const path = join(dir, name);
  writeFileSync(path, pem);
  return path;
}

const isKind = <T>(objs: KubernetesObject[], kind: string) => objs.filter((o) => o.kind === kind) as T[];

describe.skipIf(toolsMissing(HELM))('chart: TLS between node drivers and issuer', () => {
  it('defaults: the issuer serves a certificate for its Service that the nodes verify by CA and name', async () => {
    const objs = await render({});
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node');
    const dep = find<V1Deployment>(objs, 'Deployment', '-issuer');
    const node = env(driver(ds, 'driver'));
    const issuer = env(driver(dep, 'issuer'));
    expect(node.ISSUER_PLAINTEXT).toBeUndefined();
    expect(issuer.LISTEN_PLAINTEXT).toBeUndefined();
    expect(node.CERT_SERVICE_ADDR).toBe(`${ISSUER_SVC}.${NAMESPACE}.svc:50051`);
    expect(node.ISSUER_TLS_SERVER_NAME).toBe(`${ISSUER_SVC}.${NAMESPACE}.svc`);
    expect(node.ISSUER_TLS_CLIENT_CERT_FILE).toBeUndefined();
    expect(issuer.LISTEN_TLS_CLIENT_CA_FILE).toBeUndefined();

    // The node's CA file is the ConfigMap's ca.crt; the issuer's files are the serving Secret's.
    const ca = sourceOf(ds, driver(ds, 'driver'), node.ISSUER_TLS_CA_FILE!);
    const cm = find<V1ConfigMap>(objs, 'ConfigMap', ca.vol.configMap!.name!);
    const caPem = cm.data![ca.key]!;
    const crt = sourceOf(dep, driver(dep, 'issuer'), issuer.LISTEN_TLS_CERT_FILE!);
    const key = sourceOf(dep, driver(dep, 'issuer'), issuer.LISTEN_TLS_KEY_FILE!);
    expect(key.vol.secret?.secretName).toBe(crt.vol.secret?.secretName);
    const serving = find<V1Secret>(objs, 'Secret', crt.vol.secret!.secretName!);
    expect(serving.type).toBe('kubernetes.io/tls');
    expect(crt.vol.secret?.defaultMode).toBe(0o440);
    expect(dep.spec!.template.spec!.securityContext?.fsGroup).toBe(1000);

    const caFile = writePem('ca.crt', caPem);
    const certFile = writePem('serving.crt', text(serving.data![crt.key]));
    const verified = await verifyChain(caFile, certFile, 'sslserver');
    expect(verified.ok, verified.output).toBe(true);
    const cert = new X509Certificate(text(serving.data![crt.key]));
    expect(cert.checkHost(node.ISSUER_TLS_SERVER_NAME!)).toBe(node.ISSUER_TLS_SERVER_NAME);
    for (const name of [
      ISSUER_SVC,
      `${ISSUER_SVC}.${NAMESPACE}`,
      `${ISSUER_SVC}.${NAMESPACE}.svc.cluster.local`,
    ])
      expect(cert.checkHost(name), name).toBe(name);
    expect(
      cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(text(serving.data![key.key]))),
    ).toBe(true);

    // The transport CA is not the CA that signs pods' certificates.
    const podCa = find<V1Secret>(objs, 'Secret', 'certs-csi-cert-driver-ca');
    expect(new X509Certificate(text(podCa.data!['tls.crt'])).fingerprint256).not.toBe(
      new X509Certificate(caPem).fingerprint256,
    );
    // The nodes get the CA certificate only: no Secret of the transport PKI is mounted into them.
    for (const v of ds.spec!.template.spec!.volumes ?? []) expect(v.secret, v.name).toBeUndefined();
  });

  it('clientAuth: the issuer requires a client certificate and the nodes present one from the same CA', async () => {
    const objs = await render({ issuer: { tls: { clientAuth: true } } });
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node');
    const dep = find<V1Deployment>(objs, 'Deployment', '-issuer');
    const node = env(driver(ds, 'driver'));
    const issuer = env(driver(dep, 'issuer'));
    const clientCa = sourceOf(dep, driver(dep, 'issuer'), issuer.LISTEN_TLS_CLIENT_CA_FILE!);
    const clientCaPem = text(
      find<V1Secret>(objs, 'Secret', clientCa.vol.secret!.secretName!).data![clientCa.key],
    );
    const cert = sourceOf(ds, driver(ds, 'driver'), node.ISSUER_TLS_CLIENT_CERT_FILE!);
    const key = sourceOf(ds, driver(ds, 'driver'), node.ISSUER_TLS_CLIENT_KEY_FILE!);
    expect(key.vol.secret?.secretName).toBe(cert.vol.secret?.secretName);
    expect(cert.vol.secret?.defaultMode).toBe(0o400);
    const client = find<V1Secret>(objs, 'Secret', cert.vol.secret!.secretName!);
    const verified = await verifyChain(
      writePem('client-ca.crt', clientCaPem),
      writePem('client.crt', text(client.data![cert.key])),
      'sslclient',
    );
    expect(verified.ok, verified.output).toBe(true);
  });

  it('tls.enabled=false: plaintext on both sides, said explicitly, and no TLS objects', async () => {
    const objs = await render({ issuer: { tls: { enabled: false } }, windows: { enabled: true } });
    for (const ds of isKind<V1DaemonSet>(objs, 'DaemonSet')) {
      const node = env(driver(ds, 'driver'));
      expect(node.ISSUER_PLAINTEXT, ds.metadata!.name).toBe('true');
      expect(node.ISSUER_TLS_CA_FILE).toBeUndefined();
    }
    const issuer = env(driver(find<V1Deployment>(objs, 'Deployment', '-issuer'), 'issuer'));
    expect(issuer.LISTEN_PLAINTEXT).toBe('true');
    expect(issuer.LISTEN_TLS_CERT_FILE).toBeUndefined();
    expect(
      objs.filter((o) => /tls|transport/.test(o.metadata?.name ?? '')).map((o) => o.metadata?.name),
    ).toEqual([]);
  });

  it('windows: the Windows node drivers verify the issuer the same way', async () => {
    const objs = await render({ windows: { enabled: true } });
    const linux = env(driver(find<V1DaemonSet>(objs, 'DaemonSet', '-node'), 'driver'));
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node-windows');
    const win = env(driver(ds, 'driver'));
    expect(win.ISSUER_TLS_CA_FILE).toBe(linux.ISSUER_TLS_CA_FILE);
    expect(win.ISSUER_TLS_SERVER_NAME).toBe(linux.ISSUER_TLS_SERVER_NAME);
    expect(sourceOf(ds, driver(ds, 'driver'), win.ISSUER_TLS_CA_FILE!).vol.configMap?.name).toBe(
      'certs-csi-cert-driver-issuer-tls-ca',
    );
  });

  it('existingSecret: uses the given Secret and CA ConfigMap and generates nothing', async () => {
    const objs = await render({
      issuer: {
        tls: { existingSecret: 'issuer-serving', caConfigMap: 'issuer-ca', serverName: 'issuer.example.org' },
      },
    });
    const ds = find<V1DaemonSet>(objs, 'DaemonSet', '-node');
    const dep = find<V1Deployment>(objs, 'Deployment', '-issuer');
    const node = env(driver(ds, 'driver'));
    expect(node.ISSUER_TLS_SERVER_NAME).toBe('issuer.example.org');
    expect(sourceOf(ds, driver(ds, 'driver'), node.ISSUER_TLS_CA_FILE!).vol.configMap?.name).toBe(
      'issuer-ca',
    );
    const issuer = env(driver(dep, 'issuer'));
    expect(sourceOf(dep, driver(dep, 'issuer'), issuer.LISTEN_TLS_CERT_FILE!).vol.secret?.secretName).toBe(
      'issuer-serving',
    );
    expect(
      objs.filter((o) => /tls|transport/.test(o.metadata?.name ?? '')).map((o) => o.metadata?.name),
    ).toEqual([]);
  });

  it.each([
    {
      name: 'existingSecret without caConfigMap',
      values: { issuer: { tls: { existingSecret: 'x' } } },
      want: /issuer\.tls\.caConfigMap is required/,
    },
    {
      name: 'clientAuth with existingSecret and no clientSecret',
      values: { issuer: { tls: { existingSecret: 'x', caConfigMap: 'y', clientAuth: true } } },
      want: /issuer\.tls\.clientSecret is required/,
    },
    {
      name: 'an external issuer without caConfigMap',
      values: { issuer: { enabled: false }, node: { issuerAddress: 'issuer.example.org:443' } },
      want: /issuer\.tls\.caConfigMap is required/,
    },
  ])('refuses $name', async ({ values, want }) => {
    const r = await helmTemplate(values);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(want);
  });
});
