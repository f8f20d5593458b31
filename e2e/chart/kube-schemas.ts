/**
 * JSON schemas for kubeconform, made offline from Kubernetes' own OpenAPI document: the
 * `api/openapi-spec/swagger.json` of the k8s.io/kubernetes module that scripts/install-kube.sh
 * downloads to build the test API server. One file per kind, named as kubeconform's
 * `{{ .ResourceKind }}{{ .KindSuffix }}.json` template expects, holding the kind's definition and
 * every definition it references. Strict: objects with declared properties get
 * `additionalProperties: false`, so a misspelt field fails (as kubeconform's -strict schemas do).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VERSION } from './chart.js';

type Schema = Record<string, unknown>;
interface Swagger {
  definitions: Record<string, Schema>;
}

/** swagger.json of k8s.io/kubernetes@v<KUBE_VERSION> in Go's module cache, or undefined. */
export function kubernetesSwaggerPath(): string | undefined {
  let modCache: string;
  try {
    modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
  const path = join(modCache, 'k8s.io', `kubernetes@v${KUBE_VERSION}`, 'api', 'openapi-spec', 'swagger.json');
  return existsSync(path) ? path : undefined;
}

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';

/** The definition as JSON Schema: YAML-friendly scalars, strict objects. */
function convert(name: string, def: Schema): Schema {
  // Both are strings in the OpenAPI document but are written as numbers in YAML too.
  if (name === INT_OR_STRING) return { oneOf: [{ type: 'string' }, { type: 'integer' }] };
  if (name === QUANTITY) return { oneOf: [{ type: 'string' }, { type: 'number' }] };
  return strict(def);
}

function strict(node: unknown): Schema {
  if (Array.isArray(node)) return node.map(strict) as unknown as Schema;
  if (!node || typeof node !== 'object') return node as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === 'properties' ? mapValues(v as Record<string, unknown>, strict) : strict(v);
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    !out['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

function mapValues(o: Record<string, unknown>, f: (v: unknown) => Schema): Schema {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** Every definition name reachable through `$ref` from `root`. */
function closure(defs: Record<string, Schema>, root: string): Set<string> {
  const seen = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const name = v.replace('#/definitions/', '');
        if (!seen.has(name)) {
          seen.add(name);
          walk(defs[name]);
        }
      } else walk(v);
    }
  };
  seen.add(root);
  walk(defs[root]);
  return seen;
}

/** kubeconform's KindSuffix: `-<first part of group>-<version>`, or `-<version>` for the core group. */
function fileName(g: { group: string; version: string; kind: string }): string {
  const group = g.group ? `-${g.group.split('.')[0]!.toLowerCase()}` : '';
  return `${g.kind.toLowerCase()}${group}-${g.version.toLowerCase()}.json`;
}

/**
 * Writes one strict schema per kind that `kinds` (`apiVersion/Kind` strings) names into a fresh
 * directory and returns kubeconform's -schema-location template for it.
 */
export function writeKubeconformSchemas(swaggerPath: string, kinds: Iterable<string>): string {
  const { definitions } = JSON.parse(readFileSync(swaggerPath, 'utf8')) as Swagger;
  const wanted = new Set(kinds);
  const dir = mkdtempSync(join(tmpdir(), 'kubeconform-schemas-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, def] of Object.entries(definitions)) {
    const gvks = (def['x-kubernetes-group-version-kind'] ?? []) as {
      group: string;
      version: string;
      kind: string;
    }[];
    for (const g of gvks) {
      const apiVersion = g.group ? `${g.group}/${g.version}` : g.version;
      if (!wanted.has(`${apiVersion}/${g.kind}`)) continue;
      const refs = closure(definitions, name);
      const schema: Schema = {
        $ref: `#/definitions/${name}`,
        definitions: Object.fromEntries([...refs].map((n) => [n, convert(n, definitions[n] ?? {})])),
      };
      writeFileSync(join(dir, fileName(g)), JSON.stringify(schema));
    }
  }
  return `${dir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`;
}
