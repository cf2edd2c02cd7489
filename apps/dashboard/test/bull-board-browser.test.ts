import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readDeliveryRecord } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import type { HttpDestination } from '@fanout/flows';
import { createLogger, createMetrics } from '@fanout/observability';
import { httpDestination, launchBrowser, startReceiver, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers } from '@fanout/worker';
import type { Browser, Page } from 'playwright-core';
import { adminRequest, ADMIN_TOKEN, dispatchEvents, startDashboard, type DashboardHarness } from './dashboard-harness.js';

jest.setTimeout(60_000);

/**
 * Bull Board in a real browser, as an operator uses it: a dead-lettered delivery, its
 * destination answering again, Retry clicked on the job's page. Bull Board's per-job buttons
 * are icons whose label is a tooltip, and each action asks "Are you sure?" in a dialog of its own.
 */
describe('Bull Board in a browser', () => {
  let harness: DashboardHarness;
  let receiver: ScriptedReceiver;
  let destinations: DestinationRegistry;
  let workers: DeliveryWorkers;
  let browser: Browser;
  let answer = 500;
  const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:1/replaced', retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 50, jitter: 'none' } } })]);
  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.script('/orders', () => ({ status: answer }));
    const served = testFlow('payments', [{ ...(flow.destinations[0] as HttpDestination), url: `${receiver.url}/orders` }]);
    harness = await startDashboard({ flows: [served] });
    destinations = createDestinationRegistry();
    workers = startWorkers({ flows: [served], connection: harness.bullConnection, keys: harness.fx.keys, state: harness.state, destinations, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), minLockDurationMs: 30_000, stalledIntervalMs: 10_000 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await workers.stop(1_000);
    await destinations.close();
    await receiver.close();
    await harness.close();
  });

  /** The job page's action button whose tooltip is `label`. */
  async function jobAction(page: Page, label: string): Promise<ReturnType<Page['locator']>> {
    const buttons = page.locator('main ul').first().getByRole('button');
    await buttons.first().waitFor();
    for (let i = 0; i < (await buttons.count()); i++) {
      const button = buttons.nth(i);
      await button.hover();
      const tooltip = page.getByText(label, { exact: true });
      if (await tooltip.waitFor({ state: 'visible', timeout: 1_500 }).then(() => true, () => false)) return button;
    }
    throw new Error(`no job action "${label}" on ${page.url()}`);
  }

  it('Retry on a dead letter redelivers it, and its record says delivered', async () => {
    const [eventId = ''] = await dispatchEvents(harness, harness.queues.destinations[0]!.flow, 1);
    const queue = harness.queues.get('payments', 'orders')!;
    const deadline = Date.now() + 10_000;
    while ((await queue.getJobState(eventId)) !== 'failed') {
      if (Date.now() > deadline) throw new Error('the delivery was never dead-lettered');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    answer = 200;

    const context = await browser.newContext({ baseURL: harness.url, httpCredentials: { username: 'ops', password: ADMIN_TOKEN } });
    // Bull Board's page links Google Fonts; this machine reaches no such host.
    await context.route(/^https?:\/\/fonts\.(googleapis|gstatic)\.com\//, (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`/admin/queues/queue/payments.orders/${eventId}?status=failed`);
    // The job's page shows the delivery, not only BullMQ's job.
    await page.getByText('HTTP 500', { exact: false }).first().waitFor();
    const retry = await jobAction(page, 'Retry');
    const answered = page.waitForResponse((response) => response.request().method() === 'PUT' && response.url().endsWith(`/api/queues/payments.orders/${eventId}/retry`));
    await retry.click();
    const dialog = page.getByRole('alertdialog', { name: 'Are you sure?' });
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    expect((await answered).status()).toBe(204);
    await context.close();

    await receiver.waitFor('/orders', 3);
    const until = Date.now() + 10_000;
    while ((await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders'))?.status !== 'delivered') {
      if (Date.now() > until) throw new Error('the retried delivery was never recorded as delivered');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(receiver.requestsTo('/orders').map((request) => [request.headers['webhook-id'], request.nth])).toEqual([[eventId, 1], [eventId, 2], [eventId, 3]]);
    const event = await adminRequest(`${harness.url}/events/${eventId}`);
    expect(event.body).toMatchObject({ deliveries: [{ destination: 'orders', status: 'delivered', attempts: 3 }] });
  });
});
