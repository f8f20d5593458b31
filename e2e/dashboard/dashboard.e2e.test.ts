/**
 * The dashboard in real Chromium against the running demo (`bin/csi-cert-driver demo`): what a
 * newcomer sees after opening the printed URL.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { VolumePage } from '@csi-cert-driver/api-contract';
import { waitFor } from '../support/wait.js';
import { getJson, startDemo, type RunningDemo } from '../api/demo.js';
import { launchChromium, screenshotDir, watchedPage } from './browser.js';

const row = (page: Page, name: string) => page.locator('[role=row][data-volume-id]', { hasText: `/${name}` });

describe('dashboard against the running demo', () => {
  let demo: RunningDemo;
  let browser: Browser;
  let page: Page;
  const shots = screenshotDir();
  const errors: string[] = [];

  beforeAll(async () => {
    demo = await startDemo();
    await waitFor('the demo pods to be published', async () => {
      const p = await getJson<VolumePage>(demo, '/api/v1/volumes');
      return p.counts.healthy === 5 && p.counts.failed === 1 ? true : undefined;
    });
    browser = await launchChromium();
    page = await watchedPage(browser, errors);
  });
  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
  });

  it('loads and shows the demo volumes, their states and expiries', async () => {
    await page.goto(`${demo.url}/`);
    await page.waitForSelector('html[data-ready=true]', { timeout: 15_000 });
    await expect.poll(() => page.locator('[role=row][data-volume-id]').count()).toBe(6);
    expect(await page.getByTestId('count-healthy').textContent()).toMatch(/^5/);
    expect(await page.getByTestId('count-failed').textContent()).toMatch(/^1/);
    for (const name of ['web-0', 'api-0', 'scraper-0', 'ledger-0', 'migrated-0']) {
      const r = row(page, name);
      expect(await r.getAttribute('data-state')).toBe('healthy');
      expect(await r.locator('.cell-expires').textContent()).toMatch(/^expires in \d/);
      expect(await r.locator('.badge').textContent()).toContain('Healthy');
    }
    expect(await row(page, 'web-0').locator('.cell-expires').textContent()).toMatch(/^expires in 6d 2[23]h/);
    expect(await page.getByTestId('soonest-expiry').textContent()).toMatch(/(scraper-0|api-0)expires in \d/);
    await expect.poll(() => page.getByTestId('live').textContent()).toContain('Live');
    expect(await page.locator('[data-testid=timeline] .trow').count()).toBe(5);
    await page.screenshot({ path: join(shots, 'dashboard-overview.png') });
  });

  it('shows the volume the issuer refuses as failed, in words and not only in colour', async () => {
    const r = row(page, 'wants-ca-0');
    expect(await r.getAttribute('data-state')).toBe('failed');
    expect(await r.locator('.badge').textContent()).toBe('✕Failed');
    expect(await r.locator('.cell-expires').textContent()).toBe('publish failing');
    await r.click();
    const details = page.locator('aside.details');
    await expect
      .poll(() => details.textContent())
      .toMatch(/publish failing, kubelet retries: .*does not sign CA certificates/);
    expect(await details.locator('[data-testid=history] li').first().textContent()).toContain(
      'Publish — failed',
    );
    await page.screenshot({ path: join(shots, 'dashboard-failed.png') });
    await details.getByRole('button', { name: 'Close details' }).click();
    expect(await details.count()).toBe(0);
  });

  it('filters by namespace, text and state, and keeps the view in the URL', async () => {
    const rows = page.locator('[role=row][data-volume-id]');
    await page.getByLabel('Namespace').selectOption('monitoring');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('monitoring/scraper-0');
    expect(await page.getByTestId('shown-count').textContent()).toBe('1 of 6 volumes');
    expect(page.url()).toContain('namespace=monitoring');

    await page.getByLabel('Namespace').selectOption('');
    await page.getByLabel('Search').fill('ledger');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('payments/ledger-0');

    await page.getByLabel('Search').fill('');
    await page.getByTestId('count-failed').click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('default/wants-ca-0');
    expect(await page.getByTestId('count-failed').getAttribute('aria-pressed')).toBe('true');
    expect(page.url()).toContain('state=failed');
    await page.screenshot({ path: join(shots, 'dashboard-filter-failed.png') });

    await page.getByLabel('Search').fill('no-such-pod');
    await expect.poll(() => page.getByTestId('no-match').count()).toBe(1);
    await page.getByTestId('no-match').getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => rows.count()).toBe(6);

    await page.goto(`${demo.url}/?namespace=payments`);
    await page.waitForSelector('html[data-ready=true]');
    await expect.poll(() => rows.count()).toBe(1);
    await page.goto(`${demo.url}/`);
    await page.waitForSelector('html[data-ready=true]');
  });

  it('opens details from the keyboard', async () => {
    const first = page.locator('[role=row][data-volume-id]').first();
    await first.focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const second = page.locator('[role=row][data-volume-id]').nth(1);
    await expect.poll(() => second.getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.locator('aside.details h2').textContent()).toMatch(/\/.+-0$/);
  });

  it('shows a short-lived certificate renewing, live, without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
    const scraper = row(page, 'scraper-0');
    await scraper.click();
    const details = page.locator('aside.details');
    await expect.poll(() => details.locator('h2').textContent()).toBe('monitoring/scraper-0');
    const renewed = details.locator('[data-testid=history] li[data-kind=renew][data-outcome=success]');
    const before = await renewed.count();
    const serialBefore = await scraper.locator('.cell-serial').getAttribute('title');
    await expect.poll(() => renewed.count(), { timeout: 80_000, interval: 1000 }).toBeGreaterThan(before);
    expect(await renewed.first().textContent()).toMatch(/Renewed/);
    await expect.poll(() => scraper.locator('.cell-serial').getAttribute('title')).not.toBe(serialBefore);
    expect(Number(await scraper.locator('.cell-renewals').textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator('[data-testid=timeline] .trow.selected .tdone').count()).toBeGreaterThanOrEqual(
      1,
    );
    expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
    await page.screenshot({ path: join(shots, 'dashboard-renewal.png') });
  });

  it('says so when the API does not answer, and recovers on retry', async () => {
    const p = await browser.newPage();
    await p.route('**/api/v1/volumes?*', (r) =>
      r.fulfill({
        status: 503,
        contentType: 'application/json',
        body: '{"statusCode":503,"error":"Service Unavailable","message":"node is restarting"}',
      }),
    );
    await p.goto(`${demo.url}/`);
    const alert = p.getByRole('alert');
    await expect.poll(() => alert.textContent()).toContain('The node API did not answer. node is restarting');
    await p.unroute('**/api/v1/volumes?*');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await expect.poll(() => p.locator('[role=row][data-volume-id]').count()).toBe(6);
    await p.close();
  });

  it('explains an empty node', async () => {
    const p = await browser.newPage();
    await p.route('**/api/v1/events', (r) => r.abort());
    await p.route('**/api/v1/volumes?*', (r) =>
      r.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          items: [],
          total: 0,
          offset: 0,
          limit: 5000,
          counts: { failed: 0, expiring: 0, renewing: 0, healthy: 0 },
          generatedAt: new Date().toISOString(),
        }),
      }),
    );
    await p.goto(`${demo.url}/`);
    await expect
      .poll(() => p.getByTestId('empty').textContent())
      .toContain('No certificate volumes here yet');
    await p.close();
  });

  it('logged no errors in the page', () => {
    expect(errors.filter((e) => !/Failed to load resource.*503/.test(e))).toEqual([]);
  });
});
