import { CsiClient } from './product.js';
import type { DriverProcess } from './driver-process.js';
import { waitFor } from './wait.js';

/**
 * Waits until the node process answers CSI `Probe` with ready=true on `endpoint` (`unix://…`).
 * Fails at once when the process exits, and after `timeoutMs`; either error carries the end of the
 * node's log.
 */
export async function waitForNodeReady(
  proc: DriverProcess,
  endpoint: string,
  timeoutMs = 30_000,
): Promise<void> {
  const outcome = await waitFor(
    `the node to answer Probe ready on ${endpoint}`,
    async () => {
      if (proc.exitStatus) return 'exited';
      const probe = new CsiClient(endpoint, 1000);
      try {
        const res = await probe.call<{ ready?: { value?: boolean } }>('Identity', 'Probe');
        return res.ready?.value === true ? 'ready' : undefined;
      } finally {
        probe.close();
      }
    },
    { timeoutMs },
  ).catch((e: unknown) => {
    throw new Error(`${(e as Error).message}\n--- node log ---\n${proc.tail()}`);
  });
  if (outcome === 'exited')
    throw new Error(`node exited ${JSON.stringify(proc.exitStatus)}\n--- node log ---\n${proc.tail()}`);
}
