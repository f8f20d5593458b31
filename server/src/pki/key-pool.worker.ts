/**
 * The key pool's worker thread, as source text run with `new Worker(source, { eval: true })`: the
 * server ships as one bundled file (dist/main.mjs), and an eval worker needs no second file to find
 * next to it, under esbuild, tsx or vitest alike. The worker generates one key pair per message with
 * the synchronous generator (it has its own thread) and posts both KeyObjects back; KeyObjects are
 * cloneable across threads, so no key material is ever serialized as text.
 *
 * Message in:  { id: number, algorithm: 'RSA' | 'ECDSA' | 'Ed25519', size: number, curve?: string }
 * Message out: { id, privateKey, publicKey } or { id, error: string }
 */
export const KEY_POOL_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { generateKeyPairSync } = require('node:crypto');
parentPort.on('message', (job) => {
  try {
    let pair;
    if (job.algorithm === 'RSA') {
      pair = generateKeyPairSync('rsa', { modulusLength: job.size, publicExponent: 0x10001 });
    } else if (job.algorithm === 'ECDSA') {
      pair = generateKeyPairSync('ec', { namedCurve: job.curve });
    } else if (job.algorithm === 'Ed25519') {
      pair = generateKeyPairSync('ed25519');
    } else {
      throw new Error('unsupported algorithm ' + job.algorithm);
    }
    parentPort.postMessage({ id: job.id, privateKey: pair.privateKey, publicKey: pair.publicKey });
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String((e && e.message) || e) });
  }
});
`;

/** A job for the worker. */
export interface KeyJob {
  id: number;
  algorithm: 'RSA' | 'ECDSA' | 'Ed25519';
  size: number;
  curve?: string | undefined;
}
