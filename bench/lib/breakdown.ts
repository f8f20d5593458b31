/**
 * Where one publish's time goes: the steps of `VolumeManager.publish` timed one by one in this
 * process, with the same library functions the node role calls (attribute parsing, key generation,
 * CSR, the issuer's signing, the issuer RPC, rendering, the state store, the Linux platform).
 * Sequential, a fresh volume each round, like the sequential publish benchmark.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { ExecMounter, LinuxPlatform, loadFfiMounter, readMountInfo } from '../../platform/linux/src/index.js';
import { kubeletPublishRequest } from '../../server/src/demo/csi-client.js';
import { parsePodInfo, parseVolumeAttributes } from '../../server/src/attributes/index.js';
import { buildCsr, generateKey } from '../../server/src/pki/index.js';
import {
  DEFAULT_SIGNING_POLICY,
  loadCertificateAuthorityFromFiles,
  signCsr,
} from '../../server/src/issuer/index.js';
import { GrpcIssuerClient } from '../../server/src/issuer-client/grpc-issuer.client.js';
import { renderFiles } from '../../server/src/volumes/volume-certificates.js';
import { FileStateStore } from '../../server/src/volumes/file-state-store.js';
import type { VolumeState } from '../../server/src/volumes/volume-state.js';
import { summarize, type Summary } from './stats.js';
import { newVolume, type Algorithm } from './volumes.js';

export interface BreakdownInput {
  algorithm: Algorithm;
  rounds: number;
  caCertFile: string;
  caKeyFile: string;
  /** `unix:///…` of the running issuer process. */
  issuerAddr: string;
  /** Scratch directory: kubelet-like targets, a data root for mounts, a state directory. */
  dir: string;
}

export interface BreakdownStep {
  step: string;
  summary: Summary;
  /** Part of the node's publish path (summed into "sum of node-side steps"). */
  onPublishPath: boolean;
}

export interface MountScaling {
  /** Lines in /proc/self/mountinfo with this process's volumes at rest and with `fillers` more mounted. */
  linesIdle: number;
  linesFull: number;
  fillers: number;
  readMountInfoIdle: Summary;
  readMountInfoFull: Summary;
  createIdle: Summary;
  createFull: Summary;
  removeIdle: Summary;
  removeFull: Summary;
}

export interface Breakdown {
  algorithm: Algorithm;
  mounter: string;
  steps: BreakdownStep[];
}

interface Context {
  platform: LinuxPlatform;
  store: FileStateStore;
  issuer: GrpcIssuerClient;
  kubeletRoot: string;
}

async function context(input: BreakdownInput): Promise<Context> {
  await mkdir(input.dir, { recursive: true });
  return {
    platform: new LinuxPlatform({
      dataRoot: path.join(input.dir, 'mounts'),
      mounter: loadFfiMounter() ?? new ExecMounter(),
    }),
    store: new FileStateStore(path.join(input.dir, 'state')),
    issuer: new GrpcIssuerClient(input.issuerAddr, 10_000),
    kubeletRoot: path.join(input.dir, 'kubelet'),
  };
}

/** Times each step of a publish (and the unpublish) `rounds` times; the volume is removed every round. */
export async function publishBreakdown(input: BreakdownInput): Promise<Breakdown> {
  const ctx = await context(input);
  const ca = await loadCertificateAuthorityFromFiles(input.caCertFile, input.caKeyFile);
  const samples = new Map<string, number[]>();
  const onPath = new Map<string, boolean>();
  const time = async <T>(step: string, publishPath: boolean, fn: () => Promise<T> | T): Promise<T> => {
    const start = performance.now();
    const value = await fn();
    const ms = performance.now() - start;
    const list = samples.get(step) ?? [];
    list.push(ms);
    samples.set(step, list);
    onPath.set(step, publishPath);
    return value;
  };
  try {
    for (let i = 0; i < input.rounds; i++) {
      const v = await newVolume(ctx.kubeletRoot, input.algorithm);
      const { volume_context: volumeContext } = kubeletPublishRequest(v) as {
        volume_context: Record<string, string>;
      };
      const spec = await time('parse attributes', true, () => {
        const pod = parsePodInfo(volumeContext);
        return parseVolumeAttributes({
          volumeContext,
          pod,
          clusterDomain: 'cluster.local',
          checkFileName: (n) => ctx.platform.checkFileName(n),
        });
      });
      const state: VolumeState = {
        version: 1,
        volumeId: v.volumeId,
        targetPath: v.targetPath,
        nodeId: 'bench-node',
        pod: v.pod,
        attributes: volumeContext,
        spec,
        phase: 'publishing',
        createdAt: new Date().toISOString(),
        failures: 0,
        history: [],
      };
      await time('state: get (miss)', true, () => ctx.store.get(v.volumeId));
      // As VolumeManager.publish: the marker (no fsync), then the mount, run while the key, CSR and
      // issuer round trip run; not on the critical path unless slower than those three.
      const loc = { volumeId: v.volumeId, targetPath: v.targetPath };
      const mounted = time('  state: put "publishing" (no fsync) → mount', false, async () => {
        await time('  state: put "publishing" (no fsync)', false, () =>
          ctx.store.put(state, { durable: false }),
        );
        await time('  mount: tmpfs + ro bind', false, () =>
          ctx.platform.createVolume({ ...loc, sizeBytes: 1 << 20, fsGroup: spec.fsGroup }),
        );
      });
      const key = await time('key generation (on demand, no pool)', true, () => generateKey(spec.key));
      const csrPem = await time('CSR build + sign', true, () => buildCsr(spec, key));
      const signReq = {
        csrPem,
        pod: v.pod,
        nodeId: 'bench-node',
        volumeId: v.volumeId,
        durationSeconds: spec.durationSeconds,
        isCA: spec.isCA,
        usages: spec.usages,
      };
      await time('  (issuer signCsr, in-process)', false, () => signCsr(ca, DEFAULT_SIGNING_POLICY, signReq));
      const signed = await time('issuer RPC (unix socket, issuer process)', true, () =>
        ctx.issuer.sign(signReq),
      );
      const files = await time('render files (PEM)', true, () => renderFiles(spec, key.privateKey, signed));
      await mounted;
      // As VolumeManager.publish: the durable state write runs while the files are written; the
      // step on the path is the pair, its two parts are shown indented.
      await time('write files ‖ state put "published"', true, () =>
        Promise.all([
          time('  state: put "published" (fsync file + dir)', false, () =>
            ctx.store.put({ ...state, phase: 'published' }),
          ),
          time('  write files (atomic set)', false, () => ctx.platform.writeFiles(v.volumeId, files)),
        ]),
      );
      await time('  unpublish: unmount + rmdir', false, () => ctx.platform.removeVolume(loc));
      await time('  unpublish: state delete (no fsync)', false, () => ctx.store.delete(v.volumeId));
    }
  } finally {
    ctx.issuer.close();
  }
  return {
    algorithm: input.algorithm,
    mounter: ctx.platform.mounter.name,
    steps: [...samples].map(([step, xs]) => ({
      step,
      summary: summarize(xs),
      onPublishPath: onPath.get(step) ?? false,
    })),
  };
}

/**
 * How the mount-table size changes mount and unmount. Creating a fresh volume and removing one this
 * process mounted no longer read /proc/self/mountinfo (stat(2) decides); `readMountInfo` is still
 * timed, as what a republish, a recovery or a leftover costs, and it grows with the table. Measures
 * `rounds` create/remove cycles with no other volume of ours, then with `fillers` volumes mounted.
 */
export async function mountScaling(dir: string, rounds: number, fillers: number): Promise<MountScaling> {
  await mkdir(dir, { recursive: true });
  const platform = new LinuxPlatform({
    dataRoot: path.join(dir, 'mounts'),
    mounter: loadFfiMounter() ?? new ExecMounter(),
  });
  const kubeletRoot = path.join(dir, 'kubelet');
  const files = [
    { name: 'tls.crt', data: new Uint8Array(1500), mode: 0o444 },
    { name: 'tls.key', data: new Uint8Array(250), mode: 0o400 },
    { name: 'ca.crt', data: new Uint8Array(600), mode: 0o444 },
  ];
  const cycle = async (): Promise<{ read: number[]; create: number[]; remove: number[] }> => {
    const out = { read: [] as number[], create: [] as number[], remove: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const v = await newVolume(kubeletRoot, 'ECDSA');
      const loc = { volumeId: v.volumeId, targetPath: v.targetPath };
      let t = performance.now();
      readMountInfo();
      out.read.push(performance.now() - t);
      t = performance.now();
      await platform.createVolume({ ...loc, sizeBytes: 1 << 20 });
      out.create.push(performance.now() - t);
      await platform.writeFiles(v.volumeId, files);
      t = performance.now();
      await platform.removeVolume(loc);
      out.remove.push(performance.now() - t);
    }
    return out;
  };
  const linesIdle = readMountInfo().length;
  const idle = await cycle();
  const mounted: { volumeId: string; targetPath: string }[] = [];
  try {
    for (let i = 0; i < fillers; i++) {
      const v = await newVolume(kubeletRoot, 'ECDSA');
      const loc = { volumeId: v.volumeId, targetPath: v.targetPath };
      await platform.createVolume({ ...loc, sizeBytes: 1 << 20 });
      mounted.push(loc);
      await platform.writeFiles(v.volumeId, files);
    }
    const linesFull = readMountInfo().length;
    const full = await cycle();
    return {
      linesIdle,
      linesFull,
      fillers,
      readMountInfoIdle: summarize(idle.read),
      readMountInfoFull: summarize(full.read),
      createIdle: summarize(idle.create),
      createFull: summarize(full.create),
      removeIdle: summarize(idle.remove),
      removeFull: summarize(full.remove),
    };
  } finally {
    for (const loc of mounted) await platform.removeVolume(loc);
  }
}
