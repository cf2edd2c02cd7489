import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, dispatchEvents, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const payments = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' })]);
const post = (url: string) => adminRequest(url, { method: 'POST' });

describe('POST /flows/:flow/destinations/:destination/pause and /resume', () => {
  let harness: DashboardHarness;
  beforeEach(async () => {
    harness = await startDashboard({ flows: [payments] });
  });
  afterEach(() => harness.close());

  const stateOf = async (destination: string): Promise<unknown> => {
    const { body } = await adminRequest(`${harness.url}/flows/payments`);
    return (body as { destinations: { name: string; state: string }[] }).destinations.find((one) => one.name === destination)?.state;
  };

  it('pauses one destination (its queue paused, its deliveries kept) and resumes it', async () => {
    await dispatchEvents(harness, payments, 2);
    const orders = harness.queues.get('payments', 'orders')!;
    expect(await post(`${harness.url}/flows/payments/destinations/orders/pause`)).toMatchObject({ status: 200, body: { state: 'paused', was: 'closed' } });
    expect(await orders.isPaused()).toBe(true);
    expect(await stateOf('orders')).toBe('paused');
    expect(await stateOf('archive')).toBe('closed');
    const { body } = await adminRequest(`${harness.url}/status`);
    expect((body as { destinations: unknown[] }).destinations).toContainEqual(expect.objectContaining({ destination: 'orders', waiting: 2, state: 'paused' }));
    // Again: nothing changes.
    expect(await post(`${harness.url}/flows/payments/destinations/orders/pause`)).toMatchObject({ status: 200, body: { state: 'paused', was: 'paused' } });

    expect(await post(`${harness.url}/flows/payments/destinations/orders/resume`)).toMatchObject({ status: 200, body: { state: 'closed', was: 'paused' } });
    expect(await orders.isPaused()).toBe(false);
    expect(await stateOf('orders')).toBe('closed');
    expect(await post(`${harness.url}/flows/payments/destinations/orders/resume`)).toMatchObject({ status: 200, body: { state: 'closed', was: 'closed' } });
  });

  it("maps Bull Board's Pause and Resume onto the destination's", async () => {
    const api = `${harness.url}/admin/queues/api/queues/payments.archive`;
    expect((await adminRequest(`${api}/pause`, { method: 'PUT' })).status).toBe(200);
    expect(await stateOf('archive')).toBe('paused');
    expect(await harness.queues.get('payments', 'archive')!.isPaused()).toBe(true);
    expect((await adminRequest(`${api}/resume`, { method: 'PUT' })).status).toBe(200);
    expect(await stateOf('archive')).toBe('closed');
    expect(await harness.queues.get('payments', 'archive')!.isPaused()).toBe(false);
  });

  it('answers 404 for a flow or destination that is not loaded', async () => {
    expect(await post(`${harness.url}/flows/nope/destinations/orders/pause`)).toMatchObject({ status: 404, body: { error: { code: 'FLOW_NOT_FOUND' } } });
    expect(await post(`${harness.url}/flows/payments/destinations/nope/resume`)).toMatchObject({ status: 404, body: { error: { code: 'DESTINATION_NOT_FOUND' } } });
  });

  it('is behind the admin token', async () => {
    expect((await fetch(`${harness.url}/flows/payments/destinations/orders/pause`, { method: 'POST' })).status).toBe(401);
  });
});
