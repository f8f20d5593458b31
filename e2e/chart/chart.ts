/**
 * Drives the real Helm binary (.cache/bin/helm, from scripts/install-kube.sh) against the chart and
 * hands back the rendered objects. Value sets are written to files, as users pass them with -f.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/repo.js';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'csi-cert-driver');
export const TOOLS = join(REPO_ROOT, '.cache', 'bin');
export const HELM = join(TOOLS, 'helm');
export const KUBECTL = join(TOOLS, 'kubectl');
export const KUBECONFORM = join(TOOLS, 'kubeconform');
export const HADOLINT = join(TOOLS, 'hadolint');
export const RELEASE = 'certs';
export const NAMESPACE = 'csi-cert-driver';
/** The CSIDriver spec the chart renders with its default values. */
export const DEFAULT_CSIDRIVER_SPEC = {
  attachRequired: false,
  podInfoOnMount: true,
  volumeLifecycleModes: ['Ephemeral'],
  fsGroupPolicy: 'File',
  requiresRepublish: true,
  serviceAccountTokenInSecrets: true,
  tokenRequests: [{ audience: 'csi.k8s.cert-driver', expirationSeconds: 3600 }],
};
/**
 * The Kubernetes version of the test API server: from scripts/install-kube.sh's stamp
 * (`k8s.io/kubernetes@v1.37.2`) when it has built one, else that script's default.
 */
export const KUBE_VERSION = (() => {
  const stamp = join(TOOLS, '.kube-apiserver.version');
  const m = existsSync(stamp) ? /@v(\d+\.\d+\.\d+)/.exec(readFileSync(stamp, 'utf8')) : null;
  return m?.[1] ?? '1.37.2';
})();

/** Why a tool test cannot run, or undefined when every binary exists. */
export function toolsMissing(...bins: string[]): string | undefined {
  const missing = bins.filter((b) => !existsSync(b));
  return missing.length ? `${missing.join(', ')} missing: run scripts/install-kube.sh` : undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin args` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function run(
  bin: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = execFile(
      bin,
      args,
      { maxBuffer: 64 * 1024 * 1024, timeout: 120_000, env: { ...process.env, ...opts.env }, cwd: opts.cwd },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return reject(err);
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

let valuesDir: string | undefined;

/** Writes `values` to a file for `-f` (JSON is YAML). */
export function valuesFile(name: string, values: object): string {
  valuesDir ??= mkdtempSync(join(tmpdir(), 'chart-values-'));
  const path = join(valuesDir, `${name}.yaml`);
  writeFileSync(path, JSON.stringify(values, null, 2));
  return path;
}

/** `helm template` with the chart's test release name and namespace. */
export async function helmTemplate(values: object, extra: string[] = []): Promise<RunResult> {
  return run(HELM, [
    'template',
    RELEASE,
    CHART_DIR,
    '--namespace',
    NAMESPACE,
    '--kube-version',
    KUBE_VERSION,
    '-f',
    valuesFile('template', values),
    ...extra,
  ]);
}

/** Renders `values` and parses every object; throws with Helm's message when rendering fails. */
export async function render(values: object): Promise<KubernetesObject[]> {
  const r = await helmTemplate(values);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}):\n${r.stderr}`);
  return parseManifests(r.stdout);
}

/** Every YAML document of `text` as a plain object (no model classes: unknown fields are kept). */
export function parseManifests(text: string): KubernetesObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`invalid YAML: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as KubernetesObject | null;
    })
    .filter((o): o is KubernetesObject => !!o);
}

/** The one object of `kind` whose name ends with `suffix` (throws when there is not exactly one). */
export function find<T = Record<string, unknown>>(
  objs: KubernetesObject[],
  kind: string,
  suffix = '',
): KubernetesObject & T {
  const hits = objs.filter((o) => o.kind === kind && (o.metadata?.name ?? '').endsWith(suffix));
  if (hits.length !== 1) {
    const names = objs.filter((o) => o.kind === kind).map((o) => o.metadata?.name);
    throw new Error(
      `expected one ${kind} named *${suffix}, found ${hits.length} among [${names.join(', ')}]`,
    );
  }
  return hits[0] as KubernetesObject & T;
}

export function kindsOf(objs: KubernetesObject[]): string[] {
  return objs.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
}
