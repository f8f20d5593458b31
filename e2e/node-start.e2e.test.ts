/**
 * What a node process does at start, seen from outside with real processes: a second node on the
 * same CSI_ENDPOINT leaves the first one's socket alone and exits, touching no volume; temporary
 * state files a killed write left behind are gone after a restart, real state untouched.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { DriverProcess } from './support/driver-process.js';
import { codeName, harnessPerSuite, type Harness } from './support/harness.js';

let h: Harness;
harnessPerSuite({ suite: 'node-start' }, (started) => (h = started));

it('a second node on the same CSI_ENDPOINT never removes the live socket and touches no volume', async () => {
  const vol = h.newVolume();
  expect(codeName((await h.publish(vol)).code)).toBe('OK');
  const before = h.snapshot();
  const socketInode = statSync(h.socketPath).ino;

  const second = new DriverProcess({
    role: 'node',
    cwd: h.cwd,
    logFile: join(h.logDir, 'second-node.log'),
    settings: {
      CSI_ENDPOINT: h.csiEndpoint,
      NODE_ID: h.nodeId,
      CERT_SERVICE_ADDR: h.issuerAddr,
      CERT_BASE_PATH: h.basePath,
      API_LISTEN_ADDR: 'off',
    },
  });
  const exit = await second.exited;
  expect(exit.code, second.logText()).not.toBe(0);
  expect(second.logText()).toContain('in use by a running process');

  expect(statSync(h.socketPath).ino, 'the same socket file').toBe(socketInode);
  const probe = await h.client.call<{ ready?: { value?: boolean } }>('Identity', 'Probe', {});
  expect(probe.ready?.value).toBe(true);
  expect(h.snapshot()).toEqual(before);
  expect(codeName((await h.publish(h.newVolume())).code)).toBe('OK');
}, 60_000);

it('temporary state files left by a killed write are removed at start; real state stays', async () => {
  const vol = h.newVolume();
  expect(codeName((await h.publish(vol)).code)).toBe('OK');
  await h.killNode();
  const stateDir = join(h.basePath, 'state');
  const real = readFileSync(h.stateFile(vol.volumeId), 'utf8');
  const leftovers = [`${vol.volumeId}.json.tmp-0badc0de`, 'csi-gone.json.tmp-12345678'];
  for (const name of leftovers) writeFileSync(join(stateDir, name), '{"pkcs12Password":"left-behind"}');
  expect(h.stateFiles()).toEqual(expect.arrayContaining(leftovers));

  await h.startNode();
  for (const name of leftovers) expect(h.stateFiles()).not.toContain(name);
  expect(h.stateFiles()).toContain(`${vol.volumeId}.json`);
  expect(readFileSync(h.stateFile(vol.volumeId), 'utf8')).toBe(real);
  expect(codeName((await h.publish(vol)).code), 'republish of the recovered volume').toBe('OK');
}, 60_000);
