/**
 * Debian's Chromium driven by playwright-core (`npx playwright install` cannot download browsers
 * here). scripts/bootstrap.sh installs the `chromium` package.
 */
import { existsSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../support/repo.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: run scripts/bootstrap.sh (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** A new page `height` pixels high whose uncaught exceptions and console errors collect in `errors`. */
export async function watchedPage(browser: Browser, errors: string[], height = 1000): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height } });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return page;
}

/**
 * Where screenshots go: docs/screenshots with UPDATE_SCREENSHOTS=1 (to refresh the ones the docs
 * show), a temporary folder otherwise, so a test run leaves the work tree clean.
 */
export function screenshotDir(): string {
  const dir =
    process.env.UPDATE_SCREENSHOTS === '1'
      ? join(REPO_ROOT, 'docs', 'screenshots')
      : join(tmpdir(), 'csi-cert-driver-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
