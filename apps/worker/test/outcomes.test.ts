import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { DELIVERY_JOB_NAME, deliveryJobOptions, type DeliveryJob } from '@fanout/queues';
import { readAttempts, writeDeliveryRecord } from '@fanout/redis';
import { httpDestination, replies, testFlow } from '@fanout/testkit';
import { PAYLOAD_GONE } from '@fanout/worker';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(20_000);

describe('delivery outcomes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      flow: (url) =>
        testFlow('payments', [
          httpDestination({ name: 'ok', url: `${url}/ok`, headers: { 'X-Team': 'orders' } }),
          httpDestination({ name: 'flaky', url: `${url}/flaky` }),
          httpDestination({ name: 'bad-request', url: `${url}/bad-request` }),
          httpDestination({ name: 'gone', url: `${url}/gone` }),
          httpDestination({ name: 'down', url: `${url}/down` }),
        ]),
    });
    h.receiver.script('/flaky', replies.failFirst(2, 500));
    h.receiver.script('/bad-request', replies.status(400));
    h.receiver.script('/gone', () => ({ status: 410, body: 'subscription cancelled' }));
    h.receiver.script('/down', replies.status(500));
  });
  afterAll(() => h.close());

  it('delivers on 200: the record, the exact body and content type, the webhook and configured headers', async () => {
    const ok = h.destination('ok');
    const body = Buffer.from([0x7b, 0x00, 0xff, 0xc3, 0x28, 0x7d]);
    const before = Math.floor(Date.now() / 1_000);
    const eventId = await h.publish([ok], body, 'application/vnd.test+json; charset=utf-8');

    const record = await h.waitForRecord(eventId, ok, isSettled);
    expect(record).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 200 });
    expect(record.deliveredAt).toBeGreaterThan(0);
    expect(record.lastError).toBeUndefined();

    const [request] = h.receiver.requestsTo('/ok');
    expect(request?.body.equals(body)).toBe(true);
    expect(request?.headers).toMatchObject({ 'content-type': 'application/vnd.test+json; charset=utf-8', 'webhook-id': eventId, 'x-team': 'orders' });
    const timestamp = Number(request?.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1_000));

    expect(await readAttempts(h.redis, h.keys, eventId, 'ok')).toEqual([{ attempt: 1, at: expect.any(Number), durationMs: expect.any(Number), outcome: 'delivered', statusCode: 200 }]);
    await h.waitForJobState(ok, eventId, 'completed');
    const line = h.logLines.find((entry) => entry['eventId'] === eventId && entry['msg'] === 'delivery.attempted');
    expect(line).toMatchObject({ flow: 'payments', destination: 'ok', attempt: 1, statusCode: 200, outcome: 'delivered', durationMs: expect.any(Number) });
  });

  it('retries 500s and delivers on the third attempt with the same webhook-id, logging and counting every attempt', async () => {
    const flaky = h.destination('flaky');
    const eventId = await h.publish([flaky]);

    const record = await h.waitForRecord(eventId, flaky, isSettled);
    expect(record).toMatchObject({ status: 'delivered', attempts: 3, lastStatusCode: 200 });
    const attempts = await readAttempts(h.redis, h.keys, eventId, 'flaky');
    expect(attempts.map(({ attempt, outcome, statusCode }) => ({ attempt, outcome, statusCode }))).toEqual([
      { attempt: 1, outcome: 'retry', statusCode: 500 },
      { attempt: 2, outcome: 'retry', statusCode: 500 },
      { attempt: 3, outcome: 'delivered', statusCode: 200 },
    ]);
    expect(attempts[0]?.error).toBe('HTTP 500');
    await h.waitForJobState(flaky, eventId, 'completed');
    expect(new Set(h.receiver.requestsTo('/flaky').map((request) => request.headers['webhook-id']))).toEqual(new Set([eventId]));

    const lines = h.logLines.filter((entry) => entry['eventId'] === eventId && entry['msg'] === 'delivery.attempted');
    expect(lines.map((entry) => [entry['attempt'], entry['outcome']])).toEqual([[1, 'retry'], [2, 'retry'], [3, 'delivered']]);
    const counted = (await h.metrics.deliveries.get()).values.filter((value) => value.labels['destination'] === 'flaky');
    expect(Object.fromEntries(counted.map((value) => [value.labels['outcome'], value.value]))).toEqual({ retry: 2, delivered: 1 });
  });

  it.each([
    ['bad-request', 'HTTP 400'],
    ['gone', 'HTTP 410: subscription cancelled'],
  ])('dead-letters %s at once: one attempt, the job in the failed set, the record dead', async (name, lastError) => {
    const destination = h.destination(name);
    const eventId = await h.publish([destination]);

    const record = await h.waitForRecord(eventId, destination, isSettled);
    expect(record).toMatchObject({ status: 'dead', attempts: 1, lastError });
    await h.waitForJobState(destination, eventId, 'failed');
    const job = await h.queue(destination).getJob(eventId);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toBe(lastError);
    expect(h.receiver.requestsTo(`/${name}`).filter((request) => request.headers['webhook-id'] === eventId)).toHaveLength(1);
  });

  it('dead-letters after the last attempt when the destination always fails', async () => {
    const down = h.destination('down');
    const eventId = await h.publish([down]);

    const record = await h.waitForRecord(eventId, down, isSettled);
    expect(record).toMatchObject({ status: 'dead', attempts: 3, lastError: 'HTTP 500', lastStatusCode: 500 });
    expect((await readAttempts(h.redis, h.keys, eventId, 'down')).map((attempt) => attempt.outcome)).toEqual(['retry', 'retry', 'dead']);
    await h.waitForJobState(down, eventId, 'failed');
    expect((await h.queue(down).getJob(eventId))?.attemptsMade).toBe(3);
    expect(h.receiver.requestsTo('/down')).toHaveLength(3);
  });

  it('dead-letters a delivery whose payload is no longer stored, without sending anything', async () => {
    const ok = h.destination('ok');
    const sentBefore = h.receiver.requestsTo('/ok').length;
    const eventId = newEventId();
    await h.queue(ok).add(DELIVERY_JOB_NAME, { eventId, streamId: '1-0', flow: 'payments', destination: 'ok', receivedAt: 1 }, deliveryJobOptions(ok, eventId));

    await expect(h.waitForRecord(eventId, ok, isSettled)).resolves.toMatchObject({ status: 'dead', attempts: 1, lastError: PAYLOAD_GONE });
    await h.waitForJobState(ok, eventId, 'failed');
    expect(h.receiver.requestsTo('/ok')).toHaveLength(sentBefore);
  });

  it('writes the record of an event whose record expired meanwhile with a ttl, never without one', async () => {
    const ok = h.destination('ok');
    const eventId = await h.publish([ok]);
    await h.redis.del(h.keys.event(eventId));

    await h.waitForJobState(ok, eventId, 'completed');
    const ttl = await h.redis.pttl(h.keys.event(eventId));
    expect(ttl).toBeGreaterThan(0);
  });

  it('does not attempt again a delivery whose record is settled: a job run again after its end was lost', async () => {
    const ok = h.destination('ok');
    const sentBefore = h.receiver.requestsTo('/ok').length;
    const delivered = newEventId();
    const dead = newEventId();
    const records = h.redis.pipeline();
    writeDeliveryRecord(records, h.keys, delivered, 'ok', { status: 'delivered', attempts: 1, lastStatusCode: 200, deliveredAt: 1, updatedAt: 1 });
    writeDeliveryRecord(records, h.keys, dead, 'ok', { status: 'dead', attempts: 1, lastError: 'HTTP 410', updatedAt: 1 });
    await records.exec();
    for (const eventId of [delivered, dead]) {
      // Delayed, so that before a worker takes it the job can look started once already (BullMQ's `ats`, attemptsStarted).
      await h.queue(ok).add(DELIVERY_JOB_NAME, { eventId, streamId: '1-0', flow: 'payments', destination: 'ok', receivedAt: 1 }, { ...deliveryJobOptions(ok, eventId), delay: 300 });
      await h.redis.hset(h.queue(ok).toKey(eventId), 'ats', 1);
    }

    await h.waitForJobState(ok, delivered, 'completed');
    await h.waitForJobState(ok, dead, 'failed');
    expect((await h.queue(ok).getJob(dead))?.failedReason).toBe('HTTP 410');
    expect(h.receiver.requestsTo('/ok')).toHaveLength(sentBefore);
    expect(await readAttempts(h.redis, h.keys, delivered, 'ok')).toEqual([]);
  });

  it('fails a malformed job at once', async () => {
    const ok = h.destination('ok');
    const eventId = newEventId();
    // A job no dispatcher would write: the schema check is what is under test.
    const malformed = { eventId } as unknown as DeliveryJob;
    await h.queue(ok).add(DELIVERY_JOB_NAME, malformed, { jobId: eventId, attempts: 3 });

    await h.waitForJobState(ok, eventId, 'failed');
    const job = await h.queue(ok).getJob(eventId);
    expect(job?.failedReason).toMatch(/^malformed delivery job .*streamId/);
    expect(job?.attemptsMade).toBe(1);
  });
});
