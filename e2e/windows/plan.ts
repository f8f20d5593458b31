/**
 * Turns the tables into the runner's steps: every call of the node's first start in one plan (the
 * runner is one Windows process per plan, and starting one under Wine costs seconds), each step
 * with an id the tests look its result up by.
 */
import { kubeletPublishRequest } from '../support/product.js';
import { BAD, IDENTITY, UNIMPLEMENTED, a } from './rpc-table.js';
import { DEFAULT_WANT, casesFor, type Want } from '../support/publish-table.js';
import type { WinLayout, WinVolume } from './support/layout.js';
import type { RunnerStep } from './wine/runner-protocol.js';

/** The rows of the shared publish table the Windows node runs. */
export const GOOD = casesFor('windows');

export interface Published {
  vol: WinVolume;
  attributes: Record<string, string>;
  want: Want;
}

export interface FirstPlan {
  steps: RunnerStep[];
  /** GOOD[i] is published as good[i], step `good:<i>`. */
  good: Published[];
  /** Published with a 1-minute certificate, renewed every ~20 s; step `renew:publish`. */
  renewing: Published;
  /** BAD[i] is tried on bad[i], step `bad:<i>`. */
  bad: WinVolume[];
  /** `conflict:path` tries good[0]'s id at this volume's target path. */
  elsewhere: WinVolume;
  /** `cycle:publish`, `cycle:unpublish`, `cycle:unpublish-again`. */
  cycle: WinVolume;
}

export function publishStep(id: string, vol: WinVolume, attributes: Record<string, string>): RunnerStep {
  return {
    id,
    service: 'Node',
    method: 'NodePublishVolume',
    request: kubeletPublishRequest({ ...vol, attributes }),
    listDir: vol.targetPath,
  };
}

export function unpublishStep(id: string, vol: Pick<WinVolume, 'volumeId' | 'targetPath'>): RunnerStep {
  return {
    id,
    service: 'Node',
    method: 'NodeUnpublishVolume',
    request: { volume_id: vol.volumeId, target_path: vol.targetPath },
    listDir: vol.targetPath,
  };
}

export function firstPlan(layout: WinLayout): FirstPlan {
  const steps: RunnerStep[] = [];
  for (const c of IDENTITY)
    steps.push({ id: `identity:${c.method}`, service: c.service, method: c.method, request: {} });
  for (const u of UNIMPLEMENTED)
    steps.push({ id: `unimpl:${u.method}`, service: 'Node', method: u.method, request: u.req });

  const good = GOOD.map((c, i): Published => {
    const pod = layout.newPod(c.pod?.name, c.pod?.namespace);
    const vol = layout.newVolume(pod, { drive: c.drive ?? 'C', name: c.volumeName });
    steps.push(publishStep(`good:${i}`, vol, c.attributes));
    return { vol, attributes: c.attributes, want: { ...DEFAULT_WANT, ...c.want } };
  });

  // notAfter 60 s (plus the issuer's 60 s back-dating) away and renew-before 40 s: renewed every ~20 s.
  const renewAttrs = { [a('duration')]: '1m', [a('renew-before')]: '40s' };
  const renewing = {
    vol: layout.newVolume(),
    attributes: renewAttrs,
    want: { ...DEFAULT_WANT, durationSeconds: 60 },
  };
  steps.push(publishStep('renew:publish', renewing.vol, renewAttrs));

  const bad = BAD.map((c, i) => {
    const vol = layout.newVolume();
    const req = kubeletPublishRequest({ ...vol, attributes: c.attributes ?? {} }) as Record<string, unknown>;
    if (c.target) req.target_path = c.target(vol);
    c.mutate?.(req);
    steps.push({ id: `bad:${i}`, service: 'Node', method: 'NodePublishVolume', request: req });
    return vol;
  });

  const first = good[0]!;
  steps.push(publishStep('idem:again', first.vol, first.attributes));
  steps.push({ ...publishStep('conflict:attrs', first.vol, { [a('duration')]: '48h' }), listDir: undefined });
  const elsewhere = layout.newVolume(first.vol.pod, { name: 'other' });
  steps.push(
    publishStep('conflict:path', { ...first.vol, targetPath: elsewhere.targetPath }, first.attributes),
  );

  const cycle = layout.newVolume();
  steps.push(publishStep('cycle:publish', cycle, {}));
  steps.push(unpublishStep('cycle:unpublish', cycle));
  steps.push(unpublishStep('cycle:unpublish-again', cycle));
  steps.push(unpublishStep('unpub:never-seen', layout.newVolume()));
  steps.push({
    ...unpublishStep('unpub:no-target', { volumeId: 'csi-x', targetPath: '' }),
    listDir: undefined,
  });
  steps.push({
    ...unpublishStep('unpub:reserved', { volumeId: layout.newVolume().volumeId, targetPath: 'C:\\k\\CON' }),
    listDir: undefined,
  });
  return { steps, good, renewing, bad, elsewhere, cycle };
}
