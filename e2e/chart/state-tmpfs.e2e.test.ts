/**
 * The node DaemonSet's `state-tmpfs` init container, run for real: its script is taken from the
 * rendered chart and executed in a new mount namespace whose view of certBasePath is a bind of a
 * shared "host" directory, as kubelet sets up a hostPath with Bidirectional propagation. The tmpfs
 * must appear on the host side (so it outlives the container), a second run must leave it alone,
 * and without propagation nothing may reach the host (why the chart asks for Bidirectional).
 * Needs root (mount namespaces, mounts), as CI runs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { HELM, find, render, run, toolsMissing } from './chart.js';

const notRoot = process.getuid?.() !== 0 ? 'needs root for mount namespaces and tmpfs mounts' : undefined;

describe.skipIf(toolsMissing(HELM) ?? notRoot)('state-tmpfs init container', () => {
  let dir: string;
  let script: string;
  let size: string;
  let hostPath: string;
  let containerPath: string;

  beforeAll(async () => {
    const ds = find<V1DaemonSet>(
      await render({ node: { stateTmpfs: { size: '2Mi' } } }),
      'DaemonSet',
      '-node',
    );
    const init = ds.spec!.template.spec!.initContainers!.find((c) => c.name === 'state-tmpfs')!;
    expect(init.command!.slice(0, 2)).toEqual(['/bin/sh', '-ec']);
    script = init.command![2]!;
    size = init.env!.find((e) => e.name === 'STATE_TMPFS_SIZE')!.value!;
    expect(init.volumeMounts).toEqual([
      { name: 'cert-base', mountPath: '/var/lib/csi-certs', mountPropagation: 'Bidirectional' },
    ]);
    // A stand-in for the host's root mount (shared, as on systemd hosts) and the container's path.
    dir = mkdtempSync('/tmp/state-tmpfs-');
    hostPath = join(dir, 'host', 'var', 'lib', 'csi-certs');
    containerPath = join(dir, 'container');
    mkdirSync(hostPath, { recursive: true });
    mkdirSync(containerPath);
    for (const args of [
      ['--bind', join(dir, 'host'), join(dir, 'host')],
      ['--make-shared', join(dir, 'host')],
    ]) {
      const r = await run('mount', args);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  afterAll(async () => {
    if (!dir) return;
    await run('umount', ['-R', join(dir, 'host')]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the init script in a new mount namespace: `propagation` of the namespace's mount copies. */
  const runInit = (propagation: 'unchanged' | 'private') =>
    run(
      'unshare',
      [
        '-m',
        `--propagation=${propagation}`,
        'sh',
        '-ec',
        // kubelet's part: bind the host path at the container's path; then the chart's script.
        `mount --bind "$HOST_PATH" "$CERT_BASE_PATH"\n${script}`,
      ],
      { env: { HOST_PATH: hostPath, CERT_BASE_PATH: containerPath, STATE_TMPFS_SIZE: size } },
    );

  const hostMount = async () =>
    (await run('findmnt', ['-n', '-o', 'FSTYPE,SOURCE,OPTIONS', '--mountpoint', hostPath])).stdout.trim();

  it('without propagation the tmpfs stays in the container (nothing reaches the host)', async () => {
    const r = await runInit('private');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('mounted a tmpfs of 2m');
    expect(await hostMount()).toBe('');
  });

  it('with Bidirectional propagation the tmpfs appears on the host, size-limited and noexec', async () => {
    const r = await runInit('unchanged');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`mounted a tmpfs of 2m at ${containerPath}`);
    const m = await hostMount();
    expect(m).toMatch(/^tmpfs\s+csi-cert-driver-state\s+/);
    expect(m).toContain('size=2048k');
    expect(m).toContain('mode=700');
    for (const opt of ['nosuid', 'nodev', 'noexec']) expect(m).toContain(opt);
  });

  it('a restarted pod finds the tmpfs and leaves it (and its state) alone', async () => {
    const r = await runInit('unchanged');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('is already a tmpfs');
    const mounts = (await run('findmnt', ['-n', '-o', 'FSTYPE', '--mountpoint', hostPath])).stdout
      .trim()
      .split('\n');
    expect(mounts).toEqual(['tmpfs']);
  });
});
