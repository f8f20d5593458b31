import { applyV8Defaults } from './common/v8-defaults.js';
import { loadDemoConfig, loadIssuerConfig } from './config/config.js';
import { loadApproverConfig } from './config/approver-settings.js';
import { loadClusterViewConfig } from './config/cluster-view-settings.js';
import { createLogger } from './common/logger.js';
import { launchNode, runMain, type RoleLaunchers } from './cli.js';

/** Every role; each role's module is imported only when that role starts (dist/chunks/, ADR 23). */
const LAUNCHERS: RoleLaunchers = {
  node: launchNode,
  issuer: (settings) => {
    const cfg = loadIssuerConfig(settings, process.env);
    const logger = createLogger({ level: cfg.logLevel, role: 'issuer' });
    return {
      logger,
      async start() {
        const { startIssuerRole } = await import('./roles/issuer.role.js');
        const issuer = await startIssuerRole(cfg, logger);
        return () => issuer.close();
      },
    };
  },
  demo: (settings) => {
    const cfg = loadDemoConfig(settings, process.env, process.cwd());
    const logger = createLogger({ level: cfg.logLevel, role: 'demo' });
    return {
      logger,
      async start() {
        const { startDemoRole } = await import('./roles/demo.role.js');
        const demo = await startDemoRole(cfg, logger);
        if (cfg.demoRunSeconds > 0)
          setTimeout(() => process.kill(process.pid, 'SIGTERM'), cfg.demoRunSeconds * 1000);
        return () => demo.close();
      },
    };
  },
  approver: (settings) => {
    const cfg = loadApproverConfig(settings, process.env);
    const logger = createLogger({ level: cfg.logLevel, role: 'approver' });
    return {
      logger,
      async start() {
        const { startApproverRole } = await import('./roles/approver.role.js');
        const approver = await startApproverRole(cfg, logger);
        return () => approver.close();
      },
    };
  },
  'cluster-view': (settings) => {
    const cfg = loadClusterViewConfig(settings, process.env);
    const logger = createLogger({ level: cfg.logLevel, role: 'cluster-view' });
    return {
      logger,
      async start() {
        const { startClusterViewRole } = await import('./roles/cluster-view.role.js');
        const view = await startClusterViewRole(cfg, logger);
        return () => view.close();
      },
    };
  },
};

applyV8Defaults();
runMain(process.argv.slice(2), LAUNCHERS);
