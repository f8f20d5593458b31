import { applyV8Defaults } from './common/v8-defaults.js';
import { loadDemoConfig } from './config/config.js';
import { loadApproverConfig } from './config/approver-settings.js';
import { loadClusterViewConfig } from './config/cluster-view-settings.js';
import { launchIssuer, launchNode, roleLauncher, runMain, type RoleLaunchers } from './cli.js';

/** Every role; each role's module is imported only when that role starts (dist/chunks/, ADR 23). */
const LAUNCHERS: RoleLaunchers = {
  node: launchNode,
  issuer: launchIssuer,
  demo: roleLauncher(
    'demo',
    (settings, env) => loadDemoConfig(settings, env, process.cwd()),
    async (cfg, logger) => {
      const demo = await (await import('./roles/demo.role.js')).startDemoRole(cfg, logger);
      if (cfg.demoRunSeconds > 0)
        setTimeout(() => process.kill(process.pid, 'SIGTERM'), cfg.demoRunSeconds * 1000);
      return demo;
    },
  ),
  approver: roleLauncher('approver', loadApproverConfig, async (cfg, logger) =>
    (await import('./roles/approver.role.js')).startApproverRole(cfg, logger),
  ),
  'cluster-view': roleLauncher('cluster-view', loadClusterViewConfig, async (cfg, logger) =>
    (await import('./roles/cluster-view.role.js')).startClusterViewRole(cfg, logger),
  ),
};

applyV8Defaults();
runMain(process.argv.slice(2), LAUNCHERS);
