import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { httpDestination, testFlow } from '@fanout/testkit';
import { ADMIN_TOKEN, basic, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flows = [
  testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' })]),
  testFlow('audit', [httpDestination({ name: 'log', url: 'http://127.0.0.1:9/c' })]),
];

describe('Bull Board at /admin/queues', () => {
  let harness: DashboardHarness;
  beforeAll(async () => {
    harness = await startDashboard({ flows });
  });
  afterAll(() => harness.close());

  it('serves its page behind the admin token', async () => {
    const page = await fetch(`${harness.url}/admin/queues`, { headers: basic('ops', ADMIN_TOKEN) });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<base href="/admin/queues/"');
    const stylesheet = /href="(static\/css\/[^"]+\.css)"/.exec(html)?.[1];
    expect(stylesheet).toBeDefined();
    const asset = await fetch(`${harness.url}/admin/queues/${stylesheet}`, { headers: basic('ops', ADMIN_TOKEN) });
    expect([asset.status, asset.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^text\/css/)]);
    await asset.arrayBuffer();

    const anonymous = await fetch(`${harness.url}/admin/queues`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
  });

  it('lists one queue per destination through its API', async () => {
    const response = await fetch(`${harness.url}/admin/queues/api/queues`, { headers: basic('ops', ADMIN_TOKEN) });
    expect(response.status).toBe(200);
    const { queues } = (await response.json()) as { queues: { name: string }[] };
    expect(queues.map((queue) => queue.name).sort()).toEqual(['audit.log', 'payments.archive', 'payments.orders']);
  });
});
