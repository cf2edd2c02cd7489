import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, dispatchEvents, failAllWaiting, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const payments = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' })]);
const refunds = testFlow('refunds', [httpDestination({ name: 'ledger', url: 'http://127.0.0.1:9/c' })]);

describe('GET /status', () => {
  let harness: DashboardHarness;
  beforeEach(async () => {
    harness = await startDashboard({ flows: [payments, refunds] });
  });
  afterEach(() => harness.close());

  it("counts every destination's waiting, active, delayed and failed deliveries", async () => {
    await dispatchEvents(harness, payments, 3);
    await failAllWaiting(harness, harness.queues.get('payments', 'orders')!, 3);
    const { status, body } = await adminRequest(`${harness.url}/status`);
    expect(status).toBe(200);
    expect(body).toEqual({
      destinations: [
        { flow: 'payments', destination: 'orders', waiting: 0, active: 0, delayed: 0, failed: 3, state: 'closed' },
        { flow: 'payments', destination: 'archive', waiting: 3, active: 0, delayed: 0, failed: 0, state: 'closed' },
        { flow: 'refunds', destination: 'ledger', waiting: 0, active: 0, delayed: 0, failed: 0, state: 'closed' },
      ],
    });
  });

  it('is behind the admin token', async () => {
    expect((await fetch(`${harness.url}/status`)).status).toBe(401);
  });
});
