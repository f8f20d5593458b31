/**
 * scripts/oci-image.mjs, the OCI layout writer of scripts/build-images.sh, run as its CLI: the image
 * config it reads from a Dockerfile's final stage (one row per instruction form, and the forms it
 * must refuse rather than drop), and the archive itself (index annotations containerd names images
 * by, every blob's digest, the layer's digest even with a stale `.sha256` file, identical bytes for
 * identical inputs). No root needed.
 */
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../chart/chart.js';
import { PINNED_NODE, REPO_ROOT } from '../support/repo.js';

const WRITER = join(REPO_ROOT, 'scripts', 'oci-image.mjs');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('scripts/oci-image.mjs', () => {
  const work = mkdtempSync(join(tmpdir(), 'oci-image-'));
  const layer = join(work, 'layer.tar');
  let n = 0;

  beforeAll(async () => {
    mkdirSync(join(work, 'tree', 'etc'), { recursive: true });
    writeFileSync(join(work, 'tree', 'etc', 'hello'), 'hello\n');
    const r = await run('tar', ['-cf', layer, '-C', join(work, 'tree'), 'etc']);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Runs the writer with a Dockerfile (if given) and extra arguments, in a directory of its own. */
  async function write(dockerfile: string | undefined, extra: string[] = []) {
    const dir = join(work, `case-${++n}`);
    mkdirSync(join(dir, 'out'), { recursive: true });
    const args = [
      WRITER,
      '--out',
      join(dir, 'image.tar'),
      '--ref',
      'localhost/x:1.0',
      '--layer',
      `${layer}=the layer`,
    ];
    if (dockerfile !== undefined) {
      writeFileSync(join(dir, 'Dockerfile'), dockerfile);
      args.push('--dockerfile', join(dir, 'Dockerfile'));
    }
    return { ...(await run(PINNED_NODE, [...args, ...extra])), dir };
  }

  interface Descriptor {
    mediaType: string;
    digest: string;
    size: number;
    platform?: object;
    annotations?: Record<string, string>;
  }

  /** write() that must succeed; the archive unpacked: index, manifest, config, blobs by digest. */
  async function written(dockerfile: string | undefined, extra: string[] = []) {
    const r = await write(dockerfile, extra);
    expect(r.code, r.stderr).toBe(0);
    const x = await run('tar', ['-xf', join(r.dir, 'image.tar'), '-C', join(r.dir, 'out')]);
    expect(x.code, x.stderr).toBe(0);
    const blob = (d: string) => readFileSync(join(r.dir, 'out', 'blobs', 'sha256', d.replace('sha256:', '')));
    const index: { manifests: Descriptor[] } = JSON.parse(
      readFileSync(join(r.dir, 'out', 'index.json'), 'utf8'),
    );
    const manifest: { config: Descriptor; layers: Descriptor[] } = JSON.parse(
      blob(index.manifests[0]!.digest).toString(),
    );
    const config: { config: Record<string, unknown>; rootfs: object; history: object[] } = JSON.parse(
      blob(manifest.config.digest).toString(),
    );
    return { dir: r.dir, index, manifest, config, blob };
  }

  const BASE = 'FROM node:22 AS build\nRUN echo build\nENV IGNORED=1\nFROM node:22-slim\n';

  it.each([
    [
      'ENV pairs, quoted values, the legacy form; later keys replace earlier ones in place',
      'ENV A=1 B="two words" \\\n    C=3\nENV D four five\nENV A=one',
      { Env: ['PATH=/bin', 'A=one', 'B=two words', 'C=3', 'D=four five'] },
    ],
    [
      'LABEL over continuation lines with a comment line between them',
      'LABEL a.b="x y" \\\n# a comment\n      c=d',
      { Labels: { 'a.b': 'x y', c: 'd' } },
    ],
    [
      'USER and WORKDIR, the last one wins',
      'USER 1:1\nWORKDIR /a\nUSER 1000:1000\nWORKDIR /app',
      { User: '1000:1000', WorkingDir: '/app' },
    ],
    [
      'ENTRYPOINT and CMD, exec form',
      'ENTRYPOINT ["node", "/app/x.mjs"]\nCMD ["--help"]',
      { Entrypoint: ['node', '/app/x.mjs'], Cmd: ['--help'] },
    ],
    ['CMD, shell form', 'CMD echo hi', { Cmd: ['/bin/sh', '-c', 'echo hi'] }],
    [
      'EXPOSE, STOPSIGNAL, VOLUME',
      'EXPOSE 8080 53/udp\nSTOPSIGNAL SIGINT\nVOLUME ["/data"]',
      { ExposedPorts: { '8080/tcp': {}, '53/udp': {} }, StopSignal: 'SIGINT', Volumes: { '/data': {} } },
    ],
    ['COPY, RUN and ARG set no config; only the final stage counts', 'ARG X=1\nCOPY a b\nRUN true', {}],
  ])('%s', async (_, stage, want) => {
    const r = await written(BASE + stage, ['--config', '{"Env":["PATH=/bin"]}']);
    const cfg = r.config.config;
    expect(cfg).toMatchObject(want);
    expect(cfg.Env).toEqual((want as { Env?: string[] }).Env ?? ['PATH=/bin']);
    for (const key of [
      'User',
      'WorkingDir',
      'Entrypoint',
      'Cmd',
      'Labels',
      'ExposedPorts',
      'StopSignal',
      'Volumes',
    ])
      if (!(key in want)) expect(cfg[key], key).toBeUndefined();
  });

  it.each([
    ['an instruction it does not know', 'HEALTHCHECK CMD true', /not supported by this assembler/],
    ['a variable in a config instruction', 'ENV A=$B', /variable expansion is not supported/],
    ['a relative WORKDIR', 'WORKDIR app', /relative WORKDIR/],
    ['a LABEL without a value', 'LABEL x', /expected key=value/],
    ['an unterminated quote', 'ENV A="x', /unterminated quote/],
    ['a bad port', 'EXPOSE http', /bad port/],
  ])('refuses %s (the image would drift from the Dockerfile)', async (_, stage, message) => {
    const r = await write(BASE + stage);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(r.dir)).not.toContain('image.tar');
  });

  it('refuses a Dockerfile without FROM and a ref without a tag', async () => {
    expect((await write('USER 1')).stderr).toMatch(/no FROM/);
    const r = await run(PINNED_NODE, [
      WRITER,
      '--out',
      join(work, 'x.tar'),
      '--ref',
      'localhost/x',
      '--layer',
      layer,
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/needs a tag/);
  });

  it('the archive: names for containerd and OCI tools, digests of every blob, linux/amd64', async () => {
    const r = await written(undefined, ['--config', '{"Entrypoint":["/x"]}']);
    expect(JSON.parse(readFileSync(join(r.dir, 'out', 'oci-layout'), 'utf8'))).toEqual({
      imageLayoutVersion: '1.0.0',
    });
    const desc = r.index.manifests[0]!;
    expect(desc.annotations).toEqual({
      'io.containerd.image.name': 'localhost/x:1.0',
      'org.opencontainers.image.ref.name': '1.0',
    });
    expect(desc.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    for (const d of readdirSync(join(r.dir, 'out', 'blobs', 'sha256'))) expect(sha256(r.blob(d))).toBe(d);
    const layerDigest = `sha256:${sha256(readFileSync(layer))}`;
    expect(r.manifest.layers).toEqual([
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: layerDigest,
        size: readFileSync(layer).length,
      },
    ]);
    expect(r.config.rootfs).toEqual({ type: 'layers', diff_ids: [layerDigest] });
    expect(r.config.history).toEqual([{ created: '1970-01-01T00:00:00Z', created_by: 'the layer' }]);
    expect(r.config.config).toEqual({ Entrypoint: ['/x'] });
  });

  it('a .sha256 file older than its layer is not trusted', async () => {
    writeFileSync(`${layer}.sha256`, `${'0'.repeat(64)}\n`);
    utimesSync(`${layer}.sha256`, new Date(1000), new Date(1000));
    try {
      const r = await written(undefined);
      expect(r.manifest.layers[0]!.digest).toBe(`sha256:${sha256(readFileSync(layer))}`);
    } finally {
      rmSync(`${layer}.sha256`);
    }
  });

  it('the same inputs give the same bytes', async () => {
    const a = await written(BASE + 'USER 1000:1000');
    const b = await written(BASE + 'USER 1000:1000');
    expect(readFileSync(join(a.dir, 'image.tar')).equals(readFileSync(join(b.dir, 'image.tar')))).toBe(true);
  });
});
