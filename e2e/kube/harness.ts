/**
 * Steps every Kubernetes suite takes the same way: the CA Secret the built-in issuer reads, and that
 * issuer started as the chart runs it (ISSUER_AUTH=kubernetes, the CA from the watched Secret, its
 * own service account's RBAC from deploy/rbac/issuer.yaml).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa } from '../support/openssl.js';
import type { TestCluster } from './cluster.js';
import type { ControlPlane } from './control-plane.js';
import { startIssuerProcess, type IssuerProcess } from './issuer-process.js';
import { NS } from './names.js';

/** The Secret the built-in issuer takes its CA from. */
export const CA_SECRET = 'csi-ca-secret';

/**
 * Makes a CA in `dir` (`<name>.crt`, `<name>.key`) and stores it as the `kubernetes.io/tls` Secret
 * `CA_SECRET` in `NS`; returns the certificate's path.
 */
export async function caSecret(
  cluster: TestCluster,
  dir: string,
  name = 'ca',
  commonName?: string,
): Promise<string> {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await makeCa(crt, key, commonName);
  await cluster.tlsSecret(NS, CA_SECRET, { crt: readFileSync(crt, 'utf8'), key: readFileSync(key, 'utf8') });
  return crt;
}

/**
 * Starts the built-in issuer with its service account's token (deploy/rbac/issuer.yaml must be
 * applied), its CA from `CA_SECRET`, and `settings` on top.
 */
export async function startClusterIssuer(o: {
  cp: ControlPlane;
  cluster: TestCluster;
  suite: string;
  cwd: string;
  settings?: Record<string, string>;
}): Promise<IssuerProcess> {
  const token = await o.cluster.serviceAccountToken(NS, 'csi-cert-driver-issuer');
  return startIssuerProcess({
    suite: o.suite,
    name: 'issuer',
    cwd: o.cwd,
    settings: {
      ISSUER_AUTH: 'kubernetes',
      CA_SECRET_NAME: CA_SECRET,
      CA_SECRET_NAMESPACE: NS,
      KUBECONFIG: o.cp.kubeconfigFor('issuer', token).path,
      ...o.settings,
    },
  });
}
