import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WindowsPlatform } from '../../src/index.js';
import { assert } from './harness.js';

/**
 * A writer replaces a volume's files over and over while readers read them in a loop, on real
 * Windows file APIs. Every version of a file is self-describing (`BEGIN n`, a fill of one letter,
 * `END n`, fixed length), so a reader can tell a torn or partial read from a whole one.
 */

const SIZE = 96 * 1024;

export function version(name: string, n: number): string {
  const head = `BEGIN ${name} ${n}\n`;
  const tail = `\nEND ${name} ${n}\n`;
  const fill = String.fromCharCode(65 + (n % 26)).repeat(SIZE - head.length - tail.length);
  return head + fill + tail;
}

/** The version number of a whole file, or a description of what is wrong with it. */
export function parseVersion(name: string, content: string): number | string {
  const m = /^BEGIN (\S+) (\d+)\n([A-Z]+)\nEND (\S+) (\d+)\n$/.exec(content);
  if (!m) return `malformed (${content.length} bytes)`;
  if (m[1] !== name || m[4] !== name || m[2] !== m[5]) return `mixed: ${m[1]} ${m[2]} / ${m[4]} ${m[5]}`;
  const n = Number(m[2]);
  if (content.length !== SIZE || m[3] !== String.fromCharCode(65 + (n % 26)).repeat(m[3]?.length ?? 0)) {
    return `torn version ${n}`;
  }
  return n;
}

export interface RaceReport {
  rounds: number;
  reads: number;
  versionsSeen: number;
  torn: string[];
  /** Reads that found no file: the instant of a move-aside replacement (see fs-util renameOver). */
  momentarilyAbsent: number;
  readErrors: Record<string, number>;
  heldOpenReads: number;
}

/**
 * Runs `rounds` replacements of tls.key and tls.crt while two readers loop: one through the
 * adapter's readFile, one straight from the directory, holding a handle open across a replacement
 * now and then (Node.js opens with FILE_SHARE_DELETE, so the rename must still go through).
 */
export async function raceReaders(platform: WindowsPlatform, volumeId: string, dir: string, rounds: number) {
  const report: RaceReport = {
    rounds,
    reads: 0,
    versionsSeen: 0,
    torn: [],
    momentarilyAbsent: 0,
    readErrors: {},
    heldOpenReads: 0,
  };
  const seen = new Set<string>();
  let writing = true;
  const observe = (name: string, content: string | undefined) => {
    report.reads++;
    if (content === undefined) return void report.momentarilyAbsent++;
    const v = parseVersion(name, content);
    if (typeof v === 'string') report.torn.push(`${name}: ${v}`);
    else seen.add(`${name}:${v}`);
  };
  const fail = (e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return void report.momentarilyAbsent++;
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    report.readErrors[code] = (report.readErrors[code] ?? 0) + 1;
  };
  const viaAdapter = async () => {
    while (writing) {
      for (const name of ['tls.key', 'tls.crt']) {
        const data = await platform.readFile(volumeId, name).catch(fail);
        observe(name, data ? new TextDecoder().decode(data) : undefined);
      }
    }
  };
  const direct = async () => {
    while (writing) {
      try {
        const fh = await open(join(dir, 'tls.crt'), 'r');
        try {
          // Hold the handle while the writer may rename over the file, then read through it.
          await new Promise((resolve) => setTimeout(resolve, 3));
          observe('tls.crt', await fh.readFile('utf8'));
          report.heldOpenReads++;
        } finally {
          await fh.close();
        }
        observe('tls.key', await readFile(join(dir, 'tls.key'), 'utf8'));
      } catch (e) {
        fail(e);
      }
    }
  };
  const writer = async () => {
    for (let n = 1; n <= rounds; n++) {
      const files = ['tls.key', 'tls.crt'].map((name) => ({
        name,
        data: encode(version(name, n)),
        mode: 0o440,
      }));
      await platform.writeFiles(volumeId, files);
      await new Promise((resolve) => setImmediate(resolve));
    }
    writing = false;
  };
  await Promise.all([writer(), viaAdapter(), direct()]);
  report.versionsSeen = seen.size;
  assert(report.torn.length === 0, `readers saw partial files: ${report.torn.slice(0, 3).join('; ')}`);
  assert(Object.keys(report.readErrors).length === 0, `reads failed: ${JSON.stringify(report.readErrors)}`);
  assert(report.reads > 0 && seen.size > 2, `only ${report.reads} reads, ${seen.size} versions seen`);
  return report;
}

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
