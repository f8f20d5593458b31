/**
 * The key pool's worker thread, as source text run with `new Worker(source, { eval: true })`: the
 * server ships as one bundled file (dist/main.mjs), and an eval worker needs no second file to find
 * next to it, under esbuild, tsx or vitest alike. The worker generates one key pair per message with
 * the synchronous generator (it has its own thread) and posts both KeyObjects back; KeyObjects are
 * cloneable across threads, so no private key material is ever serialized as text. It also posts the
 * public key's DER SubjectPublicKeyInfo, which every CSR embeds, so the main thread does not export
 * it during a publish, and reads the key's details once so OpenSSL's per-key caches are filled here.
 *
 * On Linux the worker lowers its own thread's priority (nice 19) for refills, so pre-generating keys
 * only takes CPU the node's main thread, the issuer and the pods are not using; a demand job (a
 * publish is waiting) runs at normal priority again where the process may raise it (root may). Where
 * the platform offers it, the main thread also moves the worker into SCHED_IDLE for refills (ADR 14),
 * for which it needs the thread id the worker posts first.
 *
 * Message in:  { id: number, algorithm: 'RSA' | 'ECDSA' | 'Ed25519', size: number, curve?: string,
 *                priority: 'demand' | 'refill' }
 * Message out: first { tid: number | null }, then per job { id, privateKey, publicKey, spkiDer } or
 *              { id, error: string }
 */
export const KEY_POOL_WORKER_SOURCE = `
'use strict';
const { parentPort } = require('node:worker_threads');
const { generateKeyPairSync } = require('node:crypto');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
let tid;
try {
  tid = Number(readlinkSync('/proc/thread-self').split('/').pop()) || undefined;
} catch {
  tid = undefined;
}
parentPort.postMessage({ tid: tid === undefined ? null : tid });
let nice = 0;
function setNice(n) {
  if (tid === undefined || n === nice) return;
  try {
    setPriority(tid, n);
    nice = n;
  } catch {
    // Raising priority back needs CAP_SYS_NICE; without it demand jobs run at the lower priority.
  }
}
parentPort.on('message', (job) => {
  setNice(job.priority === 'refill' ? 19 : 0);
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
    const spkiDer = pair.publicKey.export({ type: 'spki', format: 'der' });
    // Reading the details makes OpenSSL derive and cache the key's legacy form here, in this thread;
    // the PEM export of the private key during the publish (SEC1/PKCS#1) would do it otherwise.
    void pair.privateKey.asymmetricKeyDetails;
    parentPort.postMessage({ id: job.id, privateKey: pair.privateKey, publicKey: pair.publicKey, spkiDer });
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
  priority: 'demand' | 'refill';
}
