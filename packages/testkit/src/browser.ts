import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium, which `.ci/run` installs where it is missing; Playwright's own browser download cannot reach its CDN here. */
export const CHROMIUM = process.env['FANOUT_TEST_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * A headless Chromium for browser tests, started with the flags this machine's closed network
 * needs (no background networking, no component updates: they would be refused many times a
 * second). Fails with what to install when the browser is missing.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set FANOUT_TEST_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
