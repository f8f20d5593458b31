/**
 * The command line every entry shares: `<role> [--setting=value ...]`, `--help`, `--version`, config
 * errors → exit 2, start failures → exit 1, SIGTERM/SIGINT → a clean stop and exit 0. An entry passes
 * the roles it carries: `main.ts` every role, `<role>-snapshot.ts` (a role's startup snapshot,
 * docs/adr/0026-node-role-from-a-startup-snapshot.md) its role only.
 */
import { ConfigError } from './config/settings.js';
import { ROLES, SETTINGS, loadIssuerConfig, loadNodeConfig, type Role } from './config/config.js';
import { createLogger, type Logger } from './common/logger.js';
import type { LogLevel } from './config/parsers.js';
import { VERSION } from './common/version.js';

const USAGE = `csi-cert-driver ${VERSION}

Usage: csi-cert-driver <role> [--setting=value ...]

Roles:
  node     CSI node driver (DaemonSet): keys, CSRs, mounts, renewal
  issuer   certificate service (Deployment): signs CSRs with the cluster CA
  demo     everything on one machine: dev CA, issuer, node driver, simulated kubelet
  approver approves or denies cert-manager CertificateRequests by the SPIFFE rules (Deployment)
  cluster-view  every node's volumes from the status objects: cluster API and dashboard (Deployment)

Every setting is an environment variable or the equal flag (CERT_BASE_PATH = --cert-base-path).
Run 'csi-cert-driver <role> --help' for a role's settings and defaults.`;

function roleHelp(role: Role): string {
  const rows = Object.entries(SETTINGS[role]).map(
    ([k, d]) =>
      `  ${k.padEnd(20)} --${k.toLowerCase().replace(/_/g, '-').padEnd(22)} ${d === '' ? '(required)' : d}`,
  );
  return `csi-cert-driver ${role}\n\nSettings (env, flag, default):\n${rows.join('\n')}`;
}

/** A role made ready to start: its logger (from its settings) and a start that resolves to its stop. */
export interface RoleLaunch {
  logger: Logger;
  start(): Promise<() => Promise<void>>;
}

/**
 * Per role: parses the role's settings (throwing `ConfigError` when one is invalid) and returns its
 * launch. The role's module is imported by `start`, so an entry loads only the role it runs.
 */
export type RoleLaunchers = Partial<Record<Role, (settings: string[]) => RoleLaunch>>;

/**
 * A role's launch from its settings loader and its start: the settings are parsed (and the logger
 * made) when the launch is made, so a bad setting fails before anything starts; `start` imports
 * the role's module (`import()` inside it, so an entry loads only the role it runs) and returns
 * what stops the role.
 */
export function roleLauncher<C extends { logLevel: LogLevel }>(
  role: Role,
  load: (settings: string[], env: NodeJS.ProcessEnv) => C,
  start: (cfg: C, logger: Logger) => Promise<{ close(): Promise<void> }>,
): (settings: string[]) => RoleLaunch {
  return (settings) => {
    const cfg = load(settings, process.env);
    const logger = createLogger({ level: cfg.logLevel, role });
    return {
      logger,
      async start() {
        const running = await start(cfg, logger);
        return () => running.close();
      },
    };
  };
}

/** The node role: settings from flags and the environment, its module imported on start. */
export const launchNode = roleLauncher('node', loadNodeConfig, async (cfg, logger) =>
  (await import('./roles/node.role.js')).startNodeRole(cfg, logger),
);

/** The issuer role: settings from flags and the environment, its module imported on start. */
export const launchIssuer = roleLauncher('issuer', loadIssuerConfig, async (cfg, logger) =>
  (await import('./roles/issuer.role.js')).startIssuerRole(cfg, logger),
);

/**
 * Parses the role and its settings, starts it with `launchers`, and stops it cleanly on SIGTERM or
 * SIGINT. Resolves to the exit status: 0 after a clean stop or help, 2 for usage and configuration
 * errors (also a role this entry does not carry), 1 when the role fails to start.
 */
export async function main(argv: string[], launchers: RoleLaunchers): Promise<number> {
  const [role, ...rest] = argv;
  if (!role || role === '--help' || role === '-h') {
    console.log(USAGE);
    return role ? 0 : 2;
  }
  if (role === '--version') {
    console.log(VERSION);
    return 0;
  }
  if (!(ROLES as readonly string[]).includes(role)) {
    console.error(`csi-cert-driver: unknown role '${role}'; roles: ${ROLES.join(', ')}`);
    return 2;
  }
  if (rest.includes('--help')) {
    console.log(roleHelp(role as Role));
    return 0;
  }
  const launcher = launchers[role as Role];
  if (!launcher) {
    console.error(
      `csi-cert-driver: this entry runs only ${Object.keys(launchers).join(', ')}; '${role}' is in dist/main.mjs`,
    );
    return 2;
  }
  let logger: Logger | undefined;
  try {
    const launch = launcher(rest);
    logger = launch.logger;
    const stop = await launch.start();
    await new Promise<void>((resolve) => {
      const onSignal = (sig: string) => {
        logger?.info({ signal: sig }, 'shutting down');
        resolve();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    await stop();
    logger.flush?.();
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`csi-cert-driver ${role}: invalid configuration: ${e.message}`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    if (logger) logger.fatal({ err: { message: msg } }, 'failed to start');
    console.error(`csi-cert-driver ${role}: failed to start: ${msg}`);
    return 1;
  }
}

/** Runs `main` and exits the process with its status (an unexpected rejection exits 1). */
export function runMain(argv: string[], launchers: RoleLaunchers): void {
  main(argv, launchers).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
