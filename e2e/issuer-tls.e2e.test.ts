/**
 * TLS between the node and the issuer, as separate processes: publishes work over TLS and mutual TLS;
 * a node configured for TLS refuses an issuer that is plaintext, presents another name or chains to
 * another CA (UNAVAILABLE, naming the TLS failure), and sends it nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DriverProcess } from './support/driver-process.js';
import { Harness, codeName, type HarnessOptions } from './support/harness.js';
import { RogueIssuer } from './support/rogue-issuer.js';
import { makeLeaf, makeTransportCa, type LeafFiles } from './support/tls-files.js';
import { expectValidPair } from './support/volume-checks.js';

const NAME = 'issuer.test';

interface Pki {
  dir: string;
  ca: { cert: string; key: string };
  otherCa: { cert: string; key: string };
  serving: LeafFiles;
  client: LeafFiles;
}

async function makePki(): Promise<Pki> {
  const dir = mkdtempSync('/tmp/ccd-tls-');
  const ca = await makeTransportCa(dir, 'transport');
  const otherCa = await makeTransportCa(dir, 'other');
  return {
    dir,
    ca,
    otherCa,
    serving: await makeLeaf(dir, 'serving', ca, NAME, 'serverAuth'),
    client: await makeLeaf(dir, 'client', ca, 'node.test', 'clientAuth'),
  };
}

async function publishOnce(h: Harness) {
  const vol = h.newVolume();
  const before = h.snapshot();
  const res = await h.publish(vol);
  return { vol, res, before };
}

/** Publishes one volume, expects OK and a valid key pair on disk, and unpublishes it. */
async function expectPublishes(h: Harness): Promise<void> {
  const { vol, res } = await publishOnce(h);
  expect(res, `${codeName(res.code)} ${res.details}`).toMatchObject({ code: status.OK });
  await expectValidPair(h, vol);
  await h.unpublish(vol);
}

describe('node ↔ issuer over TLS', () => {
  let pki: Pki;
  let h: Harness;
  let rogue: RogueIssuer;
  let opts: HarnessOptions & { nodeSettings: Record<string, string> };

  beforeAll(async () => {
    pki = await makePki();
    rogue = await RogueIssuer.start();
    opts = {
      suite: 'issuer-tls',
      issuerSettings: { LISTEN_TLS_CERT_FILE: pki.serving.cert, LISTEN_TLS_KEY_FILE: pki.serving.key },
      issuerTls: { caFile: pki.ca.cert, serverName: NAME },
      nodeSettings: { ISSUER_TLS_CA_FILE: pki.ca.cert, ISSUER_TLS_SERVER_NAME: NAME },
    };
    h = await Harness.start(opts);
    rogue.upstream = h.issuerAddr; // plaintext relay: never reached by a TLS node
    rogue.realCa = { cert: h.caCert, key: h.caKey };
  });

  afterAll(async () => {
    await h?.close();
    rogue?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('publishes over TLS with the serving certificate verified by name', async () => {
    await expectPublishes(h);
  });

  it.each<{ name: string; settings: () => Record<string, string>; detail: RegExp }>([
    {
      name: 'a wrong server name',
      settings: () => ({ ISSUER_TLS_CA_FILE: pki.ca.cert, ISSUER_TLS_SERVER_NAME: 'other.test' }),
      detail: /does not match certificate's altnames/,
    },
    {
      name: 'a serving certificate from another CA',
      settings: () => ({ ISSUER_TLS_CA_FILE: pki.otherCa.cert, ISSUER_TLS_SERVER_NAME: NAME }),
      detail: /unable to verify the first certificate/,
    },
    {
      name: 'a plaintext issuer',
      settings: () => ({
        ISSUER_TLS_CA_FILE: pki.ca.cert,
        ISSUER_TLS_SERVER_NAME: NAME,
        CERT_SERVICE_ADDR: rogue.address,
      }),
      detail: /wrong version number/,
    },
  ])('refuses $name: UNAVAILABLE, nothing written, nothing sent', async ({ settings, detail }) => {
    opts.nodeSettings = settings();
    await h.restartNode();
    const relayed = rogue.answered.relay;
    const { vol, res, before } = await publishOnce(h);
    expect(res.code, `${codeName(res.code)} ${res.details}`).toBe(status.UNAVAILABLE);
    expect(res.details).toMatch(detail);
    expect(h.snapshot()).toEqual(before);
    expect(h.stateFiles()).not.toContain(`${vol.volumeId}.json`);
    expect(rogue.answered.relay).toBe(relayed);
  });

  it.each([
    ['node', { CERT_SERVICE_ADDR: 'issuer.example:50051' }, /ISSUER_TLS_CA_FILE: is required/],
    ['issuer', { ISSUER_AUTH: 'none' }, /LISTEN_TLS_CERT_FILE: is required/],
  ] as const)('a %s in a pod without TLS settings does not start', async (role, settings, message) => {
    const proc = new DriverProcess({
      role,
      // Settings are checked before anything is opened: the sockets, files and API are never reached.
      settings: {
        ...settings,
        CSI_ENDPOINT: `unix://${join(pki.dir, 'unused.sock')}`,
        LISTEN_ADDR: '127.0.0.1:1',
        CA_CERT_FILE: join(pki.dir, 'missing.crt'),
        CA_KEY_FILE: join(pki.dir, 'missing.key'),
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: '1',
      },
      cwd: pki.dir,
      logFile: join(pki.dir, `${role}-plaintext.log`),
    });
    const exit = await proc.exited;
    expect(exit.code).not.toBe(0);
    expect(proc.tail()).toMatch(message);
  });
});

describe('node ↔ issuer over mutual TLS', () => {
  let pki: Pki;
  let h: Harness;
  let opts: HarnessOptions & { nodeSettings: Record<string, string> };

  beforeAll(async () => {
    pki = await makePki();
    opts = {
      suite: 'issuer-mtls',
      issuerSettings: {
        LISTEN_TLS_CERT_FILE: pki.serving.cert,
        LISTEN_TLS_KEY_FILE: pki.serving.key,
        LISTEN_TLS_CLIENT_CA_FILE: pki.ca.cert,
      },
      issuerTls: {
        caFile: pki.ca.cert,
        serverName: NAME,
        certFile: pki.client.cert,
        keyFile: pki.client.key,
      },
      nodeSettings: {
        ISSUER_TLS_CA_FILE: pki.ca.cert,
        ISSUER_TLS_SERVER_NAME: NAME,
        ISSUER_TLS_CLIENT_CERT_FILE: pki.client.cert,
        ISSUER_TLS_CLIENT_KEY_FILE: pki.client.key,
      },
    };
    h = await Harness.start(opts);
  });

  afterAll(async () => {
    await h?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('publishes with the node presenting its client certificate', async () => {
    await expectPublishes(h);
  });

  it('refuses a node without a client certificate', async () => {
    opts.nodeSettings = { ISSUER_TLS_CA_FILE: pki.ca.cert, ISSUER_TLS_SERVER_NAME: NAME };
    await h.restartNode();
    const { vol, res, before } = await publishOnce(h);
    expect(res.code, `${codeName(res.code)} ${res.details}`).toBe(status.UNAVAILABLE);
    expect(h.snapshot()).toEqual(before);
    expect(h.stateFiles()).not.toContain(`${vol.volumeId}.json`);
  });
});
