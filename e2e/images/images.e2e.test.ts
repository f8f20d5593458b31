/**
 * The images `scripts/build-images.sh` assembles without a container engine, checked against what
 * the Dockerfile promises and run in a real runtime: each OCI archive is unpacked layer by layer and
 * started with runc (private state directory, the image config's user, env and working directory).
 * - product: config (USER, WORKDIR, ENTRYPOINT, CMD, ENV, LABEL) equal to the Dockerfile's final
 *   stage, parsed here independently of the assembler; files, owners and modes; production
 *   dependencies only; the pinned Node; every role's `--help` runs as 1000:1000, the node role's
 *   from its startup snapshot.
 * - pause: the only file, keeps running, exits 0 on SIGTERM, reaps orphans re-parented to it.
 * - workload: a shell, coreutils applets and openssl that makes and verifies a certificate.
 * - all three imported by a private containerd under their refs (skipped without containerd).
 * Needs root (runc, file owners), debootstrap and gcc, as CI runs after scripts/bootstrap.sh. The
 * first build takes minutes (debootstrap, npm ci); later builds reuse .cache/images.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, run } from '../chart/chart.js';
import { REPO_ROOT } from '../support/repo.js';

const BUILD = join(REPO_ROOT, 'scripts', 'build-images.sh');
const IMAGES = join(REPO_ROOT, 'build', 'images');
const REFS = {
  product: 'localhost/csi-cert-driver:dev',
  pause: 'localhost/pause:3.10',
  workload: 'localhost/workload:dev',
} as const;
type Name = keyof typeof REFS;
const ARCHIVES: Record<Name, string> = {
  product: join(IMAGES, 'csi-cert-driver.tar'),
  pause: join(IMAGES, 'pause.tar'),
  workload: join(IMAGES, 'workload.tar'),
};

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function which(bin: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.map((d) => join(d, bin)).find((p) => existsSync(p));
}
const missing = ['runc', 'debootstrap', 'gcc', 'tar'].filter((b) => !which(b));
const skip =
  process.getuid?.() !== 0
    ? 'needs root (runc, file owners in the layers)'
    : missing.length
      ? `${missing.join(', ')} missing: run scripts/bootstrap.sh`
      : undefined;

interface ImageConfig {
  User?: string;
  WorkingDir?: string;
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  Labels?: Record<string, string>;
}
interface Image {
  ref: string;
  config: { architecture: string; os: string; config: ImageConfig; rootfs: { diff_ids: string[] } };
  layers: string[];
  rootfs: string;
}

/** The final stage's config instructions, parsed on their own (not with the assembler's parser). */
function dockerfilePromises() {
  const lines = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const final = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
  const args = (instr: string) =>
    final.filter((l) => l.startsWith(`${instr} `)).map((l) => l.slice(instr.length + 1));
  const kv = (s: string) =>
    [...s.matchAll(/([\w.-]+)=("([^"]*)"|(\S+))/g)].map((m) => [m[1]!, m[3] ?? m[4]!] as const);
  return {
    env: args('ENV').flatMap(kv),
    labels: Object.fromEntries(args('LABEL').flatMap(kv)),
    user: args('USER').at(-1),
    workdir: args('WORKDIR').at(-1),
    entrypoint: JSON.parse(args('ENTRYPOINT').at(-1)!) as string[],
    cmd: JSON.parse(args('CMD').at(-1)!) as string[],
    nodeVersion: /^ARG NODE_VERSION=(\S+)$/m.exec(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'))?.[1],
  };
}

async function ok(bin: string, args: string[], opts: { cwd?: string } = {}): Promise<RunResult> {
  const r = await run(bin, args, opts);
  expect(r.code, `${bin} ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}

/** Unpacks an OCI archive: index → manifest → config, then the layers in order into rootfs/. */
async function unpack(name: Name, work: string): Promise<Image> {
  const dir = join(work, name);
  mkdirSync(join(dir, 'rootfs'), { recursive: true });
  await ok('tar', ['-xf', ARCHIVES[name], '-C', dir]);
  const blob = (digest: string) => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const json = (digest: string) => JSON.parse(readFileSync(blob(digest), 'utf8'));
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  expect(JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
  expect(index.manifests).toHaveLength(1);
  const desc = index.manifests[0];
  const manifest = json(desc.digest);
  const layers: string[] = manifest.layers.map((l: { digest: string }) => blob(l.digest));
  for (const layer of layers) await ok('tar', ['-xpf', layer, '-C', join(dir, 'rootfs'), '--numeric-owner']);
  return {
    ref: desc.annotations['io.containerd.image.name'],
    config: json(manifest.config.digest),
    layers,
    rootfs: join(dir, 'rootfs'),
  };
}

/** The parts of runc's OCI runtime spec (`runc spec`) the bundles change. */
interface RuntimeSpec {
  root: { path: string; readonly: boolean };
  hostname: string;
  process: Record<string, unknown>;
  mounts: object[];
}
let runcSpec: RuntimeSpec | undefined;
let containers = 0;

/** The process of the image config (user, env, cwd) or overrides, in a runc bundle over rootfs. */
async function bundle(
  work: string,
  image: Image,
  args: string[],
  extra: { mounts?: object[]; user?: string } = {},
): Promise<{ dir: string; id: string }> {
  if (!runcSpec) {
    const specDir = mkdtempSync(join(work, 'spec-'));
    await ok('runc', ['spec', '--bundle', specDir]);
    runcSpec = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8'));
  }
  const id = `images-e2e-${process.pid}-${++containers}`;
  const dir = join(work, 'bundles', id);
  mkdirSync(dir, { recursive: true });
  const [uid, gid] = (extra.user ?? image.config.config.User ?? '0:0').split(':').map(Number);
  const spec = structuredClone(runcSpec!);
  spec.root = { path: image.rootfs, readonly: false };
  spec.hostname = id;
  spec.process = {
    ...spec.process,
    terminal: false,
    args,
    user: { uid: uid!, gid: gid ?? uid! },
    env: image.config.config.Env ?? [],
    cwd: image.config.config.WorkingDir ?? '/',
  };
  spec.mounts = [...spec.mounts, ...(extra.mounts ?? [])];
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec));
  return { dir, id };
}

describe.skipIf(skip)('images built by scripts/build-images.sh', { timeout: 120_000 }, () => {
  const work = mkdtempSync(join(tmpdir(), 'images-e2e-'));
  const runcRoot = join(work, 'runc');
  const images = {} as Record<Name, Image>;
  const df = dockerfilePromises();
  const runc = async (name: Name, args: string[], extra: { user?: string } = {}) => {
    const b = await bundle(work, images[name], args, extra);
    return run('runc', ['--root', runcRoot, 'run', '--bundle', b.dir, b.id]);
  };

  beforeAll(async () => {
    const built = await new Promise<RunResult>((resolve) => {
      const child = spawn(BUILD, ['all'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });
    expect(built.code, built.stderr).toBe(0);
    for (const name of Object.keys(REFS) as Name[]) {
      expect(built.stdout).toContain(`${REFS[name]} ${ARCHIVES[name]}`);
      images[name] = await unpack(name, work);
    }
  }, 1_200_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('product: the Dockerfile promises', () => {
    it('the Dockerfile parse found what it promises (the checks below are not vacuous)', () => {
      expect(df.nodeVersion).toMatch(/^22\.\d+\.\d+$/);
      expect(df.env.map(([k]) => k)).toContain('NODE_ENV');
      expect(Object.keys(df.labels)).toContain('org.opencontainers.image.title');
      expect(df.user).toBe('1000:1000');
    });

    it('named by the index for containerd, linux/amd64', () => {
      expect(images.product.ref).toBe(REFS.product);
      expect(images.product.config).toMatchObject({ architecture: 'amd64', os: 'linux' });
      expect(images.product.config.rootfs.diff_ids).toHaveLength(images.product.layers.length);
    });

    it.each([
      ['User', () => df.user],
      ['WorkingDir', () => df.workdir],
      ['Entrypoint', () => df.entrypoint],
      ['Cmd', () => df.cmd],
      ['Labels', () => df.labels],
    ] as const)('config %s is the Dockerfile’s', (key, want) => {
      expect(images.product.config.config[key]).toEqual(want());
    });

    it('config Env has every ENV of the Dockerfile, PATH with /usr/local/bin and the base image’s NODE_VERSION', () => {
      const env = images.product.config.config.Env ?? [];
      for (const [k, v] of df.env) expect(env).toContain(`${k}=${v}`);
      expect(env).toContain(`NODE_VERSION=${df.nodeVersion}`);
      expect(env.find((e) => e.startsWith('PATH='))?.split(/[=:]/)).toContain('/usr/local/bin');
    });

    // path, owner, mode, type (stat -L in the image: symlinks such as /bin -> usr/bin resolved)
    const FILES: [string, string, string, string][] = [
      ['/usr/local/bin/node', '0:0', '755', 'regular file'],
      ['/app', '0:0', '755', 'directory'],
      ['/app/dist/main.mjs', '0:0', '644', 'regular file'],
      ['/app/dist/node-snapshot.blob', '0:0', '644', 'regular file'],
      ['/app/dist/node-snapshot.blob.key', '0:0', '644', 'regular file'],
      ['/app/dist/issuer-snapshot.blob', '0:0', '644', 'regular file'],
      ['/app/dist/issuer-snapshot.blob.key', '0:0', '644', 'regular file'],
      ['/app/bin/csi-cert-driver', '0:0', '755', 'regular file'],
      ['/app/package.json', '0:0', '644', 'regular file'],
      ['/app/proto/csi.proto', '0:0', '644', 'regular file'],
      ['/app/proto/issuer.proto', '0:0', '644', 'regular file'],
      ['/app/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node', '0:0', '644', 'regular file'],
      ['/home/node', '1000:1000', '755', 'directory'],
      ['/bin/sh', '0:0', '755', 'regular file'],
      ['/usr/bin/mount', '0:0', '4755', 'regular file'],
      ['/usr/bin/stat', '0:0', '755', 'regular file'],
      ['/tmp', '0:0', '1777', 'directory'],
    ];
    it('files, owners and modes (stat run in the image)', async () => {
      const paths = FILES.map(([p]) => p);
      const r = await runc('product', ['stat', '-L', '-c', '%n|%u:%g|%a|%F', ...paths], { user: '0:0' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual(FILES.map((f) => f.join('|')));
    });

    it('the user and group node are 1000:1000 as in node:bookworm-slim', () => {
      const etc = (f: string) => readFileSync(join(images.product.rootfs, 'etc', f), 'utf8').split('\n');
      expect(etc('passwd')).toContain('node:x:1000:1000::/home/node:/bin/bash');
      expect(etc('group')).toContain('node:x:1000:');
    });

    it('/app holds this checkout’s dist/ (with the node and issuer roles’ snapshots), bin/, proto/ and package.json', () => {
      for (const f of [
        'dist/main.mjs',
        'dist/node-snapshot.cjs',
        'dist/node-snapshot.blob',
        'dist/node-snapshot.blob.key',
        'dist/issuer-snapshot.cjs',
        'dist/issuer-snapshot.blob',
        'dist/issuer-snapshot.blob.key',
        'bin/csi-cert-driver',
        'package.json',
        ...readdirSync(join(REPO_ROOT, 'proto')).map((p) => `proto/${p}`),
      ])
        // By hash: the blob is ~5 MB, too large for a byte-wise comparison.
        expect(sha256(join(images.product.rootfs, 'app', f)), f).toBe(sha256(join(REPO_ROOT, f)));
    });

    it('production dependencies only: every dependency, no devDependency outside the production tree', () => {
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
      const nm = join(images.product.rootfs, 'app', 'node_modules');
      for (const dep of Object.keys(pkg.dependencies))
        expect(existsSync(join(nm, dep, 'package.json')), dep).toBe(true);
      // The lockfile marks packages only development needs with `dev: true`.
      const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'));
      const prod = new Set(
        Object.entries(lock.packages as Record<string, { dev?: boolean }>)
          .filter(([path, p]) => path && !p.dev)
          .map(([path]) => path.split('node_modules/').at(-1)),
      );
      for (const dev of Object.keys(pkg.devDependencies))
        if (!prod.has(dev)) expect(existsSync(join(nm, dev)), dev).toBe(false);
      for (const dev of ['vitest', 'eslint', 'typescript', 'esbuild', 'prettier', 'vite', 'node'])
        expect(existsSync(join(nm, dev)), dev).toBe(false);
    });

    it('slim: no man pages, locales or docs but copyright files', async () => {
      const r = await run('find', [
        join(images.product.rootfs, 'usr/share/man'),
        join(images.product.rootfs, 'usr/share/locale'),
        join(images.product.rootfs, 'usr/share/doc'),
        '-type',
        'f',
        '!',
        '-name',
        'copyright',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    });

    it.each([
      ['the default command (ENTRYPOINT + CMD)', [] as string[], /csi-cert-driver/],
      ['issuer --help', ['issuer', '--help'], /csi-cert-driver issuer[\s\S]*LISTEN_ADDR/],
      ['node --help', ['node', '--help'], /csi-cert-driver node/],
      ['--version', ['--version'], /^\d+\.\d+\.\d+/],
    ])('runs as the image user: %s', async (_, args, out) => {
      const cmd = [...df.entrypoint, ...(args.length ? args : df.cmd)];
      const r = await runc('product', cmd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(out);
    });

    it.each(['node', 'issuer'])(
      'the %s role starts from its snapshot, made by the image’s node (the image user cannot remake it)',
      async (role) => {
        const r = await runc('product', ['bash', '-x', ...df.entrypoint, role, '--help']);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain(`csi-cert-driver ${role}\n`);
        expect(r.stderr).toMatch(
          new RegExp(`\\+ exec \\S*node --snapshot-blob /app/dist/${role}-snapshot\\.blob ${role} --help\\n`),
        );
      },
    );

    it.each([
      ['id -u:id -g', ['sh', '-c', 'echo "$(id -u):$(id -g)"'], () => `${df.user}`],
      ['node --version', ['node', '--version'], () => `v${df.nodeVersion}`],
      ['pwd', ['sh', '-c', 'pwd'], () => `${df.workdir}`],
      [
        'koffi loads its linux-x64 module',
        ['node', '-e', 'console.log(typeof require("koffi").load)'],
        () => 'function',
      ],
    ])('in the image: %s', async (_, cmd, want) => {
      const r = await runc('product', cmd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(want());
    });
  });

  describe('pause', () => {
    it('one file, /pause, the entrypoint', async () => {
      expect(images.pause.ref).toBe(REFS.pause);
      expect(images.pause.config.config.Entrypoint).toEqual(['/pause']);
      expect(images.pause.layers).toHaveLength(1);
      const list = await ok('tar', ['-tf', images.pause.layers[0]!]);
      expect(list.stdout.trim().split('\n')).toEqual(['pause']);
    });

    it('keeps running, reaps orphans re-parented to it, exits 0 on SIGTERM', async () => {
      // The workload's static busybox is bound in to make an orphan and to look for zombies.
      const busybox = {
        destination: '/busybox',
        type: 'bind',
        source: join(images.workload.rootfs, 'bin', 'busybox'),
        options: ['bind', 'ro'],
      };
      const b = await bundle(work, images.pause, images.pause.config.config.Entrypoint!, {
        mounts: [busybox],
      });
      const child: ChildProcess = spawn('runc', ['--root', runcRoot, 'run', '--bundle', b.dir, b.id], {
        stdio: 'ignore',
      });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      /** Runs `script` with the bound-in busybox shell inside the container. */
      const shellIn = (script: string) =>
        ok('runc', ['--root', runcRoot, 'exec', b.id, '/busybox', 'sh', '-c', script]);
      try {
        let state = '';
        for (let i = 0; i < 50 && !state.includes('"running"'); i++) {
          await sleep(100);
          state = (await run('runc', ['--root', runcRoot, 'state', b.id])).stdout;
        }
        expect(state).toContain('"running"');
        await sleep(500);
        expect(child.exitCode).toBeNull();
        // `sleep` outlives its shell, is re-parented to PID 1 and exits: pause must reap it.
        await shellIn('/busybox sleep 0.3 & exit 0');
        await sleep(1000);
        const zombies = await shellIn(
          'for f in /proc/[0-9]*/stat; do read -r l <"$f"; case "$l" in *") Z "*) echo "$l";; esac; done',
        );
        expect(zombies.stdout).toBe('');
        child.kill('SIGTERM');
        expect(await Promise.race([exited, sleep(10_000).then(() => 'timeout')])).toBe(0);
      } finally {
        if (child.exitCode === null) await run('runc', ['--root', runcRoot, 'kill', b.id, 'KILL']);
        await exited;
        await run('runc', ['--root', runcRoot, 'delete', '--force', b.id]);
      }
    });
  });

  describe('workload', () => {
    it.each([
      ['openssl version', ['openssl', 'version'], /^OpenSSL 3\./],
      [
        'openssl makes and verifies a certificate',
        [
          'sh',
          '-c',
          'cd /tmp && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=w -days 1 -keyout k.pem -out c.pem 2>/dev/null && openssl verify -CAfile c.pem c.pem',
        ],
        /c\.pem: OK/,
      ],
      [
        'sh, id, ls, cat, sleep',
        ['sh', '-c', 'id -u; ls /bin/sh; echo hi | cat; sleep 0'],
        /^0\n\/bin\/sh\nhi\n$/,
      ],
    ])('%s', async (_, cmd, out) => {
      expect(images.workload.ref).toBe(REFS.workload);
      const r = await runc('workload', cmd);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(out);
    });
  });

  describe.skipIf(!which('containerd') || !which('ctr'))('containerd', () => {
    let containerd: ChildProcess | undefined;
    const dir = join(work, 'containerd');
    const sock = join(dir, 'containerd.sock');

    afterAll(async () => {
      if (containerd && containerd.exitCode === null) {
        const exited = new Promise((resolve) => containerd!.on('exit', resolve));
        containerd.kill('SIGTERM');
        await exited;
      }
    });

    it('a private containerd imports every archive under its ref', { timeout: 300_000 }, async () => {
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'config.toml'),
        [
          'version = 2',
          `root = "${dir}/root"`,
          `state = "${dir}/state"`,
          'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
          '[grpc]',
          `  address = "${sock}"`,
          '[ttrpc]',
          `  address = "${sock}.ttrpc"`,
        ].join('\n'),
      );
      containerd = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
      for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(100);
      const ctr = (...args: string[]) => ok('ctr', ['--address', sock, '-n', 'k8s.io', ...args]);
      for (const name of Object.keys(REFS) as Name[]) await ctr('images', 'import', ARCHIVES[name]);
      const list = (await ctr('images', 'ls', '-q')).stdout.trim().split('\n');
      expect(list.sort()).toEqual(Object.values(REFS).sort());
    });
  });
});
