/**
 * Lists read page by page against a real kube-apiserver: the node's status re-sync list
 * (kubernetesStatusApi) with a page of 7 reads every one of 40 objects of its node through 6
 * pages, and a continue token that the API server's etcd compaction expired (410 Gone) restarts the list, which then
 * holds the objects as they are after the change.
 */
import { join } from 'node:path';
import { CustomObjectsApi, KubernetesObjectApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the list under test
import { customObjectPages, listAll, type ListPage } from '../../server/src/kube/client/paged-list.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the status API's transport
import { loadKubeAccess } from '../../server/src/kube/client/kube-access.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the list under test
import { kubernetesStatusApi } from '../../server/src/kube/status/status-api.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the CRD's names and the node's label selector
import * as cvs from '../../server/src/kube/status/status-object.js';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the status-object fakes shared with the unit tests
import { fakeStatusObject, type FakeVolume } from '../../server/src/cluster-view/testing.js';
import { REPO_ROOT } from '../support/repo.js';
import { waitFor } from '../support/wait.js';
import { TestCluster } from './cluster.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

const PAGE = 7;
const MINE = 40;
const NAMESPACES = ['paged-a', 'paged-b'];
const CRD = { group: cvs.CVS_GROUP, version: cvs.CVS_VERSION, plural: cvs.CVS_PLURAL };

const volume = (i: number, node: string): FakeVolume => ({
  namespace: NAMESPACES[i % 2]!,
  pod: `${node}-pod-${i}`,
  node,
  notAfter: 3600,
  nextRenewal: 1800,
});
const nameOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace}/${o.metadata?.name}`;

describe('lists of custom resources, page by page, against a real kube-apiserver', () => {
  let cp: ControlPlane;
  let objects: KubernetesObjectApi;
  let custom: CustomObjectsApi;
  const mine = Array.from({ length: MINE }, (_, i) => volume(i, 'node-paged'));

  beforeAll(async () => {
    // The API server compacts etcd every 2 s (default 5 min), to the revision of the round before.
    cp = await startControlPlane({
      name: 'kube-paged-list',
      apiServerArgs: ['--etcd-compaction-interval=2s'],
    });
    const cluster = new TestCluster(cp);
    objects = KubernetesObjectApi.makeApiClient(cp.kubeConfig);
    custom = cp.kubeConfig.makeApiClient(CustomObjectsApi);
    for (const ns of NAMESPACES) await cluster.namespace(ns);
    await cluster.apply(join(REPO_ROOT, 'deploy', 'crds', `${cvs.CVS_PLURAL}.${cvs.CVS_GROUP}.yaml`));
    await waitFor('the CRD to be served', () => custom.listClusterCustomObject(CRD));
    const other = Array.from({ length: 5 }, (_, i) => volume(i, 'node-other'));
    for (const v of [...mine, ...other]) await objects.create(fakeStatusObject(v));
  }, 240_000);
  afterAll(async () => {
    await cp?.stop();
  });

  it("the node's re-sync list reads every page of its own objects", async () => {
    // The node's own transport (node:https, kube-access.ts) with the admin's kubeconfig.
    const { json, transport } = await loadKubeAccess({ kubeconfigPath: cp.kubeconfigPath });
    expect(transport).toBe('https');
    const api = kubernetesStatusApi(json, PAGE);
    const listed = await api.list(cvs.nodeSelector('node-paged'));
    const want = mine.map((v) => nameOf(fakeStatusObject(v))).sort();
    expect(listed.map(nameOf).sort()).toEqual(want);
    expect(new Set(listed.map((o) => o.status.node))).toEqual(new Set(['node-paged']));
    // More than one page: the API server hands out at most PAGE a request.
    const first = await customObjectPages(custom, { ...CRD, limit: PAGE })(undefined);
    expect(first.items).toHaveLength(PAGE);
    expect(first.continueToken).toBeTruthy();
  });

  it('a continue token compacted away (410 Gone) restarts the list, which then sees the change', async () => {
    const read = customObjectPages<cvs.CertVolumeStatusObject>(custom, {
      ...CRD,
      labelSelector: cvs.nodeSelector('node-paged'),
      limit: PAGE,
    });
    const stale = await read(undefined);
    // A change after the first page, then a compaction past it: the token can no longer be honoured.
    const changed = { ...mine[MINE - 1]!, serial: 'c0ffee' };
    await objects.patch(
      fakeStatusObject(changed),
      undefined,
      undefined,
      'csi-cert-driver-node',
      true,
      'application/apply-patch+yaml',
    );
    await waitFor(
      "the first page's continue token to expire",
      () =>
        read(stale.continueToken).then(
          () => undefined,
          (e: unknown) => ((e as { code?: number }).code === 410 ? true : Promise.reject(e)),
        ),
      { timeoutMs: 60_000 },
    );

    const asked: (string | undefined)[] = [];
    let handedStale = false;
    const got = await listAll({
      what: cvs.CVS_PLURAL,
      read: (token): Promise<ListPage<cvs.CertVolumeStatusObject>> => {
        asked.push(token);
        if (!handedStale) {
          handedStale = true;
          return Promise.resolve(stale);
        }
        return read(token);
      },
    });
    expect(asked[1]).toBe(stale.continueToken);
    expect(asked[2]).toBeUndefined();
    expect(got.items.map(nameOf).sort()).toEqual(mine.map((v) => nameOf(fakeStatusObject(v))).sort());
    const last = got.items.find((o) => nameOf(o) === nameOf(fakeStatusObject(changed)));
    expect(last?.status.serialNumber).toBe('c0ffee');
    expect(Number(got.resourceVersion)).toBeGreaterThan(Number(stale.resourceVersion));
  });
});
