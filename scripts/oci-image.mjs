#!/usr/bin/env node
/**
 * Writes an OCI image-layout archive (oci-layout, index.json, blobs/sha256/*) from uncompressed
 * layer tars and an image configuration; `ctr images import` names the image from the index's
 * `io.containerd.image.name` annotation (the full ref) and OCI tools from
 * `org.opencontainers.image.ref.name` (the tag).
 *
 *   node scripts/oci-image.mjs --out <archive> --ref <name:tag> [--config <json>]
 *        [--dockerfile <Dockerfile>] --layer <tar>[=<history comment>]...
 *
 * --config is a partial image config (`Env`, `Entrypoint`, `Cmd`, `User`, `WorkingDir`, `Labels`);
 * --dockerfile then applies its final stage's ENV, LABEL, USER, WORKDIR, ENTRYPOINT and CMD over it
 * (an instruction this parser does not support, or a `$` expansion in them, is an error, so the
 * image cannot silently drift from the Dockerfile). A layer's digest is read from `<tar>.sha256`
 * when that file is not older than the tar, else computed. Every timestamp is the epoch, so equal
 * inputs give an identical archive. The archive is written next to --out and renamed into place.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync, renameSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

const EPOCH = '1970-01-01T00:00:00Z';
const MT = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
};

/** Splits a Dockerfile argument string into words: "..." and '...' quoting, backslash escapes. */
export function words(s) {
  const out = [];
  let cur = '';
  let quote = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated quote in: ${s}`);
  if (inWord) out.push(cur);
  return out;
}

/** `k=v k2="v 2"` pairs of ENV and LABEL (the legacy `ENV k v` form too). */
function pairs(instr, args) {
  const w = words(args);
  if (w.length >= 1 && !w[0].includes('=')) {
    if (instr === 'ENV' && w.length >= 2) return [[w[0], w.slice(1).join(' ')]];
    throw new Error(`${instr} ${args}: expected key=value`);
  }
  return w.map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new Error(`${instr} ${args}: expected key=value, got ${kv}`);
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  });
}

/** ENTRYPOINT/CMD: the JSON exec form, or the shell form run by /bin/sh -c. */
function command(args) {
  if (args.startsWith('[')) {
    const v = JSON.parse(args);
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw new Error(`not a string array: ${args}`);
    return v;
  }
  return ['/bin/sh', '-c', args];
}

/**
 * The image config a Dockerfile's final stage sets: Env (as [key, value] pairs in order), Labels,
 * User, WorkingDir, Entrypoint, Cmd. Comment lines are dropped before continuation lines are joined.
 */
export function dockerfileConfig(text) {
  const lines = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  if (lastFrom < 0) throw new Error('no FROM in the Dockerfile');
  const cfg = { Env: [], Labels: {} };
  for (const line of lines.slice(lastFrom + 1)) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`cannot parse: ${line}`);
    const instr = m[1].toUpperCase();
    const args = m[2].trim();
    const setsConfig = ['ENV', 'LABEL', 'USER', 'WORKDIR', 'ENTRYPOINT', 'CMD'].includes(instr);
    if (setsConfig && args.includes('$')) throw new Error(`variable expansion is not supported: ${line}`);
    switch (instr) {
      case 'ENV':
        cfg.Env.push(...pairs(instr, args));
        break;
      case 'LABEL':
        for (const [k, v] of pairs(instr, args)) cfg.Labels[k] = v;
        break;
      case 'USER':
        cfg.User = args;
        break;
      case 'WORKDIR':
        if (!args.startsWith('/')) throw new Error(`relative WORKDIR is not supported: ${line}`);
        cfg.WorkingDir = args;
        break;
      case 'ENTRYPOINT':
        cfg.Entrypoint = command(args);
        break;
      case 'CMD':
        cfg.Cmd = command(args);
        break;
      case 'COPY':
      case 'ADD':
      case 'RUN':
      case 'ARG':
        break; // content: assembled by scripts/build-images.sh and checked by its e2e test
      default:
        throw new Error(`instruction not supported by this assembler: ${line}`);
    }
  }
  return cfg;
}

/** Env list `K=V` with later keys replacing earlier ones in place. */
function mergeEnv(base, pairsList) {
  const env = new Map(base.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  for (const [k, v] of pairsList) env.set(k, v);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

async function sha256File(path) {
  const side = `${path}.sha256`;
  try {
    if (statSync(side).mtimeMs >= statSync(path).mtimeMs) {
      const d = readFileSync(side, 'utf8').trim();
      if (/^[0-9a-f]{64}$/.test(d)) return d;
    }
  } catch {
    // no sidecar: hash the file
  }
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

/** A ustar header for a regular file or directory owned by 0:0 with mtime 0. */
function tarHeader(name, size, dir) {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  const h = Buffer.alloc(512);
  const put = (off, len, s) => h.write(s, off, len, 'ascii');
  const oct = (off, len, n) => put(off, len, n.toString(8).padStart(len - 1, '0') + '\0');
  h.write(name, 0, 100, 'utf8');
  oct(100, 8, dir ? 0o755 : 0o644);
  oct(108, 8, 0);
  oct(116, 8, 0);
  oct(124, 12, size);
  oct(136, 12, 0);
  put(148, 8, '        ');
  put(156, 1, dir ? '5' : '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Writes the entries ({name, data} or {name, file, size} or {name, dir}) as a tar to `out`. */
async function writeTar(out, entries) {
  const ws = createWriteStream(out);
  const write = async (buf) => {
    if (!ws.write(buf)) await once(ws, 'drain');
  };
  for (const e of entries) {
    const size = e.dir ? 0 : e.data ? e.data.length : e.size;
    await write(tarHeader(e.name, size, !!e.dir));
    if (e.data) await write(e.data);
    if (e.file) {
      let n = 0;
      for await (const chunk of createReadStream(e.file)) {
        n += chunk.length;
        await write(chunk);
      }
      if (n !== size) throw new Error(`${e.file} changed while archiving`);
    }
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)));
  }
  await write(Buffer.alloc(1024));
  await new Promise((resolve, reject) => ws.end((err) => (err ? reject(err) : resolve())));
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      ref: { type: 'string' },
      config: { type: 'string', default: '{}' },
      dockerfile: { type: 'string' },
      layer: { type: 'string', multiple: true, default: [] },
    },
  });
  if (!values.out || !values.ref || values.layer.length === 0)
    throw new Error(
      'usage: oci-image.mjs --out <archive> --ref <name:tag> [--config <json>] [--dockerfile <file>] --layer <tar>...',
    );
  const ref = values.ref;
  const tag = /:([\w][\w.-]{0,127})$/.exec(ref.slice(ref.lastIndexOf('/') + 1))?.[1];
  if (!tag) throw new Error(`--ref needs a tag: ${ref}`);

  const partial = JSON.parse(values.config);
  const config = { ...partial, Env: partial.Env ?? [], Labels: partial.Labels ?? {} };
  if (values.dockerfile) {
    const df = dockerfileConfig(readFileSync(values.dockerfile, 'utf8'));
    config.Env = mergeEnv(config.Env, df.Env);
    config.Labels = { ...config.Labels, ...df.Labels };
    for (const k of ['User', 'WorkingDir', 'Entrypoint', 'Cmd']) if (df[k] !== undefined) config[k] = df[k];
  }
  if (config.Env.length === 0) delete config.Env;
  if (Object.keys(config.Labels).length === 0) delete config.Labels;

  const layers = [];
  for (const spec of values.layer) {
    const eq = spec.indexOf('=');
    const file = eq < 0 ? spec : spec.slice(0, eq);
    const comment = eq < 0 ? file.split('/').at(-1) : spec.slice(eq + 1);
    layers.push({ file, comment, size: statSync(file).size, digest: await sha256File(file) });
  }
  const imageConfig = Buffer.from(
    JSON.stringify({
      created: EPOCH,
      architecture: 'amd64',
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.digest}`) },
      history: layers.map((l) => ({ created: EPOCH, created_by: l.comment })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.manifest,
      config: { mediaType: MT.config, digest: `sha256:${sha256(imageConfig)}`, size: imageConfig.length },
      layers: layers.map((l) => ({ mediaType: MT.layer, digest: `sha256:${l.digest}`, size: l.size })),
    }),
  );
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.index,
      manifests: [
        {
          mediaType: MT.manifest,
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  const blobs = new Map();
  for (const l of layers) blobs.set(l.digest, { file: l.file, size: l.size });
  blobs.set(sha256(imageConfig), { data: imageConfig });
  blobs.set(sha256(manifest), { data: manifest });
  const tmp = `${values.out}.tmp`;
  await writeTar(tmp, [
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', data: index },
    { name: 'blobs/', dir: true },
    { name: 'blobs/sha256/', dir: true },
    ...[...blobs].map(([digest, b]) => ({ name: `blobs/sha256/${digest}`, ...b })),
  ]);
  renameSync(tmp, values.out);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(`oci-image: ${err.message}`);
    process.exit(1);
  });
}
