import { applyV8Defaults } from './common/v8-defaults.js';
import { ConfigError } from './config/settings.js';
import {
  ROLES,
  SETTINGS,
  loadDemoConfig,
  loadIssuerConfig,
  loadNodeConfig,
  type Role,
} from './config/config.js';
import { loadApproverConfig } from './config/approver-settings.js';
import { loadClusterViewConfig } from './config/cluster-view-settings.js';
import { createLogger, type Logger } from './common/logger.js';
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

/** Parses the role and its settings, starts it, and stops it cleanly on SIGTERM/SIGINT. */
export async function main(argv: string[]): Promise<number> {
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
  let logger: Logger | undefined;
  try {
    let stop: () => Promise<void>;
    switch (role as Role) {
      case 'node': {
        const cfg = loadNodeConfig(rest, process.env);
        logger = createLogger({ level: cfg.logLevel, role });
        const { startNodeRole } = await import('./roles/node.role.js');
        const node = await startNodeRole(cfg, logger);
        stop = () => node.close();
        break;
      }
      case 'issuer': {
        const cfg = loadIssuerConfig(rest, process.env);
        logger = createLogger({ level: cfg.logLevel, role });
        const { startIssuerRole } = await import('./roles/issuer.role.js');
        const issuer = await startIssuerRole(cfg, logger);
        stop = () => issuer.close();
        break;
      }
      case 'demo': {
        const cfg = loadDemoConfig(rest, process.env, process.cwd());
        logger = createLogger({ level: cfg.logLevel, role });
        const { startDemoRole } = await import('./roles/demo.role.js');
        const demo = await startDemoRole(cfg, logger);
        stop = () => demo.close();
        if (cfg.demoRunSeconds > 0)
          setTimeout(() => process.kill(process.pid, 'SIGTERM'), cfg.demoRunSeconds * 1000);
        break;
      }
      case 'approver': {
        const cfg = loadApproverConfig(rest, process.env);
        logger = createLogger({ level: cfg.logLevel, role });
        const { startApproverRole } = await import('./roles/approver.role.js');
        const approver = await startApproverRole(cfg, logger);
        stop = () => approver.close();
        break;
      }
      case 'cluster-view': {
        const cfg = loadClusterViewConfig(rest, process.env);
        logger = createLogger({ level: cfg.logLevel, role });
        const { startClusterViewRole } = await import('./roles/cluster-view.role.js');
        const view = await startClusterViewRole(cfg, logger);
        stop = () => view.close();
        break;
      }
    }
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

applyV8Defaults();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
