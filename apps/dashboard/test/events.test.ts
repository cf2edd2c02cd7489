import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { appendEvent, writeDeliveryOutcome, writeDeliveryRecord, type AttemptRecord, type DeliveryRecord } from '@fanout/redis';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' })]);
const receivedAt = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

describe('GET /events/:id', () => {
  let harness: DashboardHarness;
  const eventId = newEventId();
  beforeAll(async () => {
    harness = await startDashboard({ flows: [flow] });
    const { redis, keys } = harness.fx;
    await appendEvent(redis, keys, { id: eventId, flow: 'payments', receivedAt, contentType: 'application/json', body: Buffer.from('{}') }, 60_000);
    const pipeline = redis.pipeline();
    writeDeliveryRecord(pipeline, keys, eventId, 'orders', { status: 'pending', attempts: 0, updatedAt: receivedAt });
    writeDeliveryRecord(pipeline, keys, eventId, 'archive', { status: 'pending', attempts: 0, updatedAt: receivedAt });
    await pipeline.exec();
    const outcome = (attempt: AttemptRecord, record: DeliveryRecord): Promise<void> => writeDeliveryOutcome(redis, keys, { eventId, destination: 'orders', attempt, record }, 60_000);
    await outcome({ attempt: 1, at: receivedAt + 1_000, durationMs: 12, outcome: 'retry', statusCode: 503, error: 'HTTP 503' }, { status: 'retrying', attempts: 1, lastError: 'HTTP 503', lastStatusCode: 503, updatedAt: receivedAt + 1_012 });
    await outcome({ attempt: 2, at: receivedAt + 2_000, durationMs: 8, outcome: 'delivered', statusCode: 200 }, { status: 'delivered', attempts: 2, lastError: 'HTTP 503', deliveredAt: receivedAt + 2_008, updatedAt: receivedAt + 2_008 });
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
        { destination: 'orders', status: 'delivered', attempts: 2, lastError: 'HTTP 503', deliveredAt: '2025-01-02T03:04:07.686Z' },
      ],
    });
  });

  it('adds each delivery attempt log with ?attempts=true', async () => {
    const response = await adminRequest(`${harness.url}/events/${eventId}?attempts=true`);
    expect(response.status).toBe(200);
    const { deliveries } = response.body as { deliveries: { destination: string; attemptLog: unknown[] }[] };
    expect(deliveries.map((delivery) => [delivery.destination, delivery.attemptLog])).toEqual([
      ['archive', []],
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
