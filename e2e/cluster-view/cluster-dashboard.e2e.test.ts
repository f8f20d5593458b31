/**
 * The dashboard in cluster mode in real Chromium, served by the `cluster-view` process against a real
 * kube-apiserver holding the status objects of three nodes: the overview, a failing node and a node
 * that stopped reporting, filters kept in the URL, the drill-down to one volume with its history, and
 * a live update when a status object changes.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, screenshotDir, watchedPage } from '../dashboard/browser.js';
import { FLEET } from './fixtures.js';
import { startClusterViewEnv, type ClusterViewEnv, type ClusterViewProcess } from './harness.js';

const rows = (page: Page) => page.locator('[data-testid=cv-volumes] tbody tr');
const pods = async (page: Page) =>
  (await rows(page).locator('td:nth-child(2)').allTextContents()).map((t) => t.trim()).sort();

describe('cluster dashboard in Chromium', () => {
  let env: ClusterViewEnv;
  let view: ClusterViewProcess;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir();
  const errors: string[] = [];

  beforeAll(async () => {
    env = await startClusterViewEnv('cluster-view-dashboard');
    await env.write(FLEET);
    view = await env.startView();
    browser = await launchChromium();
    page = await watchedPage(browser, errors, 1100);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await env?.stop();
  });

  it('shows the cluster overview: nodes and their health, failures, expiries, issuers and CA', async () => {
    await page.goto(`${view.url}/`);
    await page.waitForSelector('html[data-ready=true][data-mode=cluster]', { timeout: 20_000 });
    expect(await page.getByTestId('cv-total').textContent()).toBe('8');
    expect(await page.getByTestId('cv-nodes').textContent()).toBe('3');
    expect(await page.getByTestId('cv-count-failed').textContent()).toMatch(/^2/);
    expect(await page.getByTestId('cv-stale-nodes').textContent()).toMatch(/^1/);
    const health = async (node: string) =>
      page
        .locator(`[data-testid=nodes-table] tr[data-node=${node}] [data-health]`)
        .getAttribute('data-health');
    expect(await health('linux-dead')).toBe('stale');
    expect(await health('linux-a')).toBe('failing');
    expect(await page.locator('[data-testid=nodes-table] tr[data-node=linux-dead]').textContent()).toContain(
      'Stopped reporting',
    );
    const failures = await page.locator('[data-testid=failures-table] tbody tr').allTextContents();
    expect(failures).toHaveLength(2);
    expect(failures.join('\n')).toContain('issuer unavailable: connection refused');
    // web-0, api-0 and cache-1 renew in 18 h: the busiest wave.
    expect(await page.getByTestId('renewal-peak').textContent()).toBe('3');
    expect(await page.getByTestId('ca-status').textContent()).toContain('ok');
    expect(await page.getByTestId('issuers-panel').textContent()).toContain('ClusterIssuer bank-ca');
    await expect.poll(() => page.getByTestId('live').textContent()).toContain('Live');
    expect(await rows(page).count()).toBe(8);
    await page.screenshot({ path: join(shots, 'cluster-overview.png'), fullPage: true });
  });

  it('drills down to a failing node and to a node that stopped reporting', async () => {
    await page.locator('[data-testid=nodes-table] tr[data-node=linux-a] button').click();
    await expect.poll(() => page.getByTestId('crumb-node').textContent()).toBe('linux-a');
    await expect.poll(() => rows(page).count()).toBe(4);
    expect(new URL(page.url()).searchParams.get('node')).toBe('linux-a');
    expect(await page.locator('[data-testid=cv-volumes] tr[data-state=failed]').count()).toBe(1);
    await page.locator('[data-testid=nodes-table] tr[data-node=linux-dead] button').click();
    await expect.poll(() => page.getByTestId('node-stale').textContent()).toMatch(/overdue/);
    await expect.poll(() => pods(page)).toEqual(['shop/cache-0', 'shop/cache-1']);
    await page.screenshot({ path: join(shots, 'cluster-node-stale.png'), fullPage: true });
    await page.locator('[data-testid=crumbs] button', { hasText: 'Cluster' }).click();
    await expect.poll(() => rows(page).count()).toBe(8);
  });

  it('filters by state and namespace, keeps the filters in the URL, and restores them on reload', async () => {
    await page.getByTestId('cv-count-failed').click();
    await expect.poll(() => pods(page)).toEqual(['bank/api-1', 'shop/web-3']);
    await page.getByTestId('cv-namespace').selectOption('shop');
    await expect.poll(() => pods(page)).toEqual(['shop/web-3']);
    const url = new URL(page.url());
    expect([url.searchParams.get('state'), url.searchParams.get('namespace')]).toEqual(['failed', 'shop']);
    await page.reload();
    await page.waitForSelector('html[data-ready=true]');
    await expect.poll(() => pods(page)).toEqual(['shop/web-3']);
    expect(await page.getByTestId('cv-count-failed').getAttribute('aria-pressed')).toBe('true');
    await page.getByTestId('cv-namespace').selectOption('');
    await expect.poll(() => pods(page)).toEqual(['bank/api-1', 'shop/web-3']);
    await page.screenshot({ path: join(shots, 'cluster-filter-failed.png'), fullPage: true });
    await page.getByTestId('cv-count-failed').click();
    await page.getByTestId('cv-search').fill('web-0');
    await expect.poll(() => pods(page)).toEqual(['shop/web-0']);
  });

  it('opens one volume with its details and history, and updates live when its status object changes', async () => {
    await rows(page).first().click();
    await expect.poll(() => page.getByTestId('cv-serial').textContent()).toBe('0a01');
    expect(new URL(page.url()).searchParams.get('volume')).toMatch(/^shop\/web-0-[0-9a-f]{10}$/);
    expect(await page.locator('[data-testid=cv-history] li').count()).toBe(1);
    const web0 = FLEET.find((f) => f.pod === 'web-0')!;
    await env.update({
      ...web0,
      serial: '0a02',
      last: { at: 0, kind: 'Renew', outcome: 'Success' },
      notAfter: 24 * 3600,
    });
    await expect.poll(() => page.getByTestId('cv-serial').textContent(), { timeout: 20_000 }).toBe('0a02');
    await expect.poll(() => page.locator('[data-testid=cv-history] li').count()).toBe(2);
    await page.screenshot({ path: join(shots, 'cluster-volume.png'), fullPage: true });
    // A renewal failing on linux-b shows without a reload, in the counts and the row.
    await page.getByTestId('cv-search').fill('');
    await env.update({
      ...FLEET.find((f) => f.pod === 'api-0')!,
      last: { at: 0, kind: 'Renew', outcome: 'Failure', error: 'issuer denied the request' },
    });
    await expect
      .poll(() => page.getByTestId('cv-count-failed').textContent(), { timeout: 20_000 })
      .toMatch(/^3/);
    expect(await page.locator('[data-testid=failures-table]').textContent()).toContain(
      'issuer denied the request',
    );
    expect(errors).toEqual([]);
  });
});
