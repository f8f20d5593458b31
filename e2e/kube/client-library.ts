/**
 * Whether a driver process loads `@kubernetes/client-node` (ADRs 27 and 30): a module-resolution hook
 * (run with NODE_OPTIONS=--import) that prints LIBRARY_MARKER to stderr when the library is resolved,
 * and a kubeconfig whose user is an exec plugin, which only the library supports (the hook's
 * positive control).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Printed by the hook each time `@kubernetes/client-node` is resolved. */
export const LIBRARY_MARKER = 'RESOLVED @kubernetes/client-node';

/** Writes the hook into `dir`; returns the NODE_OPTIONS value that loads it. */
export function libraryHookNodeOptions(dir: string): string {
  const hook = join(dir, 'resolve-hook.mjs');
  writeFileSync(
    hook,
    `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === '@kubernetes/client-node') process.stderr.write(${JSON.stringify(LIBRARY_MARKER + '\n')});
    return next(specifier, context);
  },
});
`,
  );
  return `--import=${pathToFileURL(hook).href}`;
}

/**
 * A kubeconfig in `dir` (`<name>.kubeconfig`, mode 0600) for the API server at `server` (CA
 * `caPem`, else the system's) whose user is an exec plugin (`<name>-exec-credential.sh`) that prints `token`.
 */
export function execPluginKubeconfig(o: {
  dir: string;
  name: string;
  server: string;
  caPem?: string;
  token: string;
}): string {
  const plugin = join(o.dir, `${o.name}-exec-credential.sh`);
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: { token: o.token },
  });
  writeFileSync(plugin, `#!/bin/sh\nprintf '%s' '${credential}'\n`, { mode: 0o700 });
  const kubeconfig = join(o.dir, `${o.name}.kubeconfig`);
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: o.server,
            ...(o.caPem ? { 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') } : {}),
          },
        },
      ],
      users: [
        {
          name: 'u',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: plugin,
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
    { mode: 0o600 },
  );
  return kubeconfig;
}
