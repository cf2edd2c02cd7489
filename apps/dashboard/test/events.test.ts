import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';

import { appendEvent } from '@fanout/event-log';
import { httpDestination, recordAsDispatched, testFlow } from '@fanout/testkit';
import { adminRequest, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' }), httpDestination({ name: 'ledger', url: 'http://127.0.0.1:9/c' })]);
const receivedAt = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

describe('GET /events/:id', () => {
  let harness: DashboardHarness;
  let clock = receivedAt;
  const eventId = newEventId();
  beforeAll(async () => {
    harness = await startDashboard({ flows: [flow], now: () => clock });
    const { redis, keys } = harness.fx;
    const partition = keys.partitionOf(eventId);
    const streamId = await appendEvent(redis, partition, { id: eventId, flow: 'payments', receivedAt, contentType: 'application/json', body: Buffer.from('{}') }, 60_000);
    await recordAsDispatched(redis, partition, [{ eventId, flow: 'payments', receivedAt, streamId, destinations: new Map([['orders', true], ['archive', true], ['ledger', true]]) }], 60_000, receivedAt);
    const job = { eventId, flow: 'payments', streamId };
    const { state } = harness;
    // orders: a 503, then delivered; ledger: delivered at once; archive: still pending.
    clock = receivedAt + 1_000;
    await state.begin({ ...job, destination: 'orders' });
    await state.scheduleRetry({ eventId, destination: 'orders' }, { attempt: 1, startedAt: clock, durationMs: 12, statusCode: 503, response: 'upstream down' }, 'HTTP 503');
    clock = receivedAt + 2_000;
    await state.begin({ ...job, destination: 'orders' });
    await state.markDelivered({ eventId, destination: 'orders' }, { attempt: 2, startedAt: clock, durationMs: 8, statusCode: 200 });
    await state.begin({ ...job, destination: 'ledger' });
    await state.markDelivered({ eventId, destination: 'ledger' }, { attempt: 1, startedAt: clock, durationMs: 5, statusCode: 204 });
  });
  afterAll(() => harness.close());

  it('answers where each delivery stands, times in ISO 8601', async () => {
    const response = await adminRequest(`${harness.url}/events/${eventId}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: eventId,
      flow: 'payments',
      receivedAt: '2025-01-02T03:04:05.678Z',
      deliveries: [
        { destination: 'archive', status: 'pending', attempts: 0 },
        { destination: 'ledger', status: 'delivered', attempts: 1, deliveredAt: '2025-01-02T03:04:07.683Z' },
        { destination: 'orders', status: 'delivered', attempts: 2, deliveredAt: '2025-01-02T03:04:07.686Z' },
      ],
    });
  });

  it('says why a delivery is retrying, with what the destination answered', async () => {
    const other = newEventId();
    const { redis, keys } = harness.fx;
    const partition = keys.partitionOf(other);
    const streamId = await appendEvent(redis, partition, { id: other, flow: 'payments', receivedAt, contentType: 'application/json', body: Buffer.from('{}') }, 60_000);
    await recordAsDispatched(redis, partition, [{ eventId: other, flow: 'payments', receivedAt, streamId, destinations: new Map([['orders', true]]) }], 60_000, receivedAt);
    await harness.state.begin({ eventId: other, destination: 'orders', flow: 'payments', streamId });
    await harness.state.scheduleRetry({ eventId: other, destination: 'orders' }, { attempt: 1, startedAt: clock, durationMs: 3, statusCode: 500, response: '<h1>Internal error</h1>' }, 'HTTP 500');
    const response = await adminRequest(`${harness.url}/events/${other}`);
    expect((response.body as { deliveries: unknown[] }).deliveries).toEqual([{ destination: 'orders', status: 'retrying', attempts: 1, lastError: 'HTTP 500: <h1>Internal error</h1>' }]);
  });

  it('adds each delivery attempt log with ?attempts=true; only the newest attempt keeps what the destination answered', async () => {
    const response = await adminRequest(`${harness.url}/events/${eventId}?attempts=true`);
    expect(response.status).toBe(200);
    const { deliveries } = response.body as { deliveries: { destination: string; attemptLog: unknown[] }[] };
    expect(deliveries.map((delivery) => [delivery.destination, delivery.attemptLog])).toEqual([
      ['archive', []],
      // Delivered at once: its one attempt, as its record tells it.
      ['ledger', [{ attempt: 1, at: '2025-01-02T03:04:07.678Z', durationMs: 5, outcome: 'delivered', statusCode: 204 }]],
      [
        'orders',
        [
          { attempt: 1, at: '2025-01-02T03:04:06.678Z', durationMs: 12, outcome: 'retry', statusCode: 503, error: 'HTTP 503' },
          { attempt: 2, at: '2025-01-02T03:04:07.678Z', durationMs: 8, outcome: 'delivered', statusCode: 200 },
        ],
      ],
    ]);
  });

  it('answers 400 naming the parameter when attempts is not a boolean', async () => {
    const response = await adminRequest(`${harness.url}/events/${eventId}?attempts=maybe`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'REQUEST_INVALID', message: expect.stringMatching(/^attempts: /) } });
  });

  it('answers 404 EVENT_NOT_FOUND for an unknown id', async () => {
    const response = await adminRequest(`${harness.url}/events/${newEventId()}`);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'EVENT_NOT_FOUND', message: expect.any(String) } });
  });
});
