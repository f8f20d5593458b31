/**
 * Time to interactive of a dashboard page in Chromium: a cold context per run whose page records
 * every long task, a wait for a quiet window, and the ready mark against the last long task.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** A fresh 1400×1000 browser context and a page that records its long tasks in `window.__longTasks`. */
export async function observedPage(browser: Browser): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: { start: number; end: number }[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries())
        w.__longTasks.push({ start: e.startTime, end: e.startTime + e.duration });
    }).observe({ type: 'longtask', buffered: true });
  });
  return { ctx, page };
}

/**
 * Waits for a quiet window: no new long task for 1 s. Gives up after 15 s and answers false (long
 * tasks kept coming: the page did not settle).
 */
export async function settled(page: Page): Promise<boolean> {
  let last = -1;
  for (let waited = 0; waited < 15_000; waited += 1000) {
    await page.waitForTimeout(1000);
    const n = await page.evaluate(() => (window as unknown as { __longTasks: unknown[] }).__longTasks.length);
    if (n === last) return true;
    last = n;
  }
  return false;
}
