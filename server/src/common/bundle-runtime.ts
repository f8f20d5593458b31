/**
 * What a role's snapshot bundle (`dist/<role>-snapshot.cjs`, scripts/node-snapshot-bundle.mjs)
 * uses where an ES module would use its own URL or load a package: the bundle is one CommonJS
 * script whose state V8 saves in a startup snapshot and restores in another process, possibly from
 * another directory (docs/adr/0026-node-role-from-a-startup-snapshot.md).
 *
 * - `bundleRuntime.moduleUrl` stands for `import.meta.url`: the bundle's own URL, the one it was
 *   built at while the snapshot is built, the one it is run from once `attachBundle` is called.
 * - `runtimeRequire(id)` loads a package the node role needs only after it started (NestJS for the
 *   lazily loaded REST API, @kubernetes/client-node, koffi's native addon, ...) from the
 *   node_modules around the bundle. While the snapshot is built there is none: a package loaded
 *   then throws, so the build fails instead of saving a half-loaded package.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The bundle's URL (`import.meta.url` in the sources). */
export const bundleRuntime: { moduleUrl: string } = {
  moduleUrl: typeof __filename === 'string' ? pathToFileURL(__filename).href : '',
};

let load: NodeJS.Require | undefined;

/** Points `import.meta.url` and `runtimeRequire` at the bundle file the process runs from. */
export function attachBundle(file: string): void {
  bundleRuntime.moduleUrl = pathToFileURL(file).href;
  load = createRequire(file);
}

/** `require(id)` from the bundle's directory; throws before `attachBundle` (while the snapshot is built). */
export function runtimeRequire(id: string): unknown {
  if (!load)
    throw new Error(
      `${id} is loaded while a role's snapshot is built; only the packages its role evaluates at start may be (SNAPSHOT_ROLES in scripts/node-snapshot-bundle.mjs)`,
    );
  return load(id);
}

/**
 * `new Intl.DateTimeFormat(...)` in a bundled package (NestJS's ConsoleLogger makes one as it loads):
 * an ICU object, which a startup snapshot cannot hold (the build aborts: "global handle not
 * serialized"). This one makes the real formatter on first use, with the process's own locale and
 * time zone.
 */
export function lazyDateTimeFormat(
  ...args: ConstructorParameters<typeof Intl.DateTimeFormat>
): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  return new Proxy({} as Intl.DateTimeFormat, {
    get: (_, k) => {
      real ??= new Intl.DateTimeFormat(...args);
      const v: unknown = Reflect.get(real, k);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(real) : v;
    },
  });
}
