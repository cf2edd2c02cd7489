import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { readAttempts, readEventRecord } from '@fanout/delivery';
import { DELIVERY_JOB_NAME, deliveryJob, deliveryQueueName, QUEUE_EVENTS_KEPT, type DeliveryJob } from '@fanout/queues';
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

  it('leaves every queue’s BullMQ events stream bounded by QUEUE_EVENTS_KEPT, whichever handles on it the workers opened', async () => {
    for (const destination of ['ok', 'flaky', 'bad-request', 'gone', 'down']) {
      expect(await h.redis.hget(`${h.keys.bullPrefix}:${deliveryQueueName('payments', destination)}:meta`, 'opts.maxLenEvents')).toBe(String(QUEUE_EVENTS_KEPT));
    }
  });

  it('delivers on 200: the record, the exact body and content type, the webhook and configured headers', async () => {
    const ok = h.destination('ok');
    const body = Buffer.from([0x7b, 0x00, 0xff, 0xc3, 0x28, 0x7d]);
    const before = Math.floor(Date.now() / 1_000);
    const eventId = await h.publish([ok], body, 'application/vnd.test+json; charset=utf-8');

    const record = await h.waitForRecord(eventId, ok, isSettled);
    expect(record).toMatchObject({ status: 'delivered', attempts: 1, statusCode: 200 });
    expect(record.at).toBeGreaterThan(0);
    expect(record.error).toBeUndefined();

    const [request] = h.receiver.requestsTo('/ok');
    expect(request?.body.equals(body)).toBe(true);
    expect(request?.headers).toMatchObject({ 'content-type': 'application/vnd.test+json; charset=utf-8', 'webhook-id': eventId, 'x-team': 'orders' });
    const timestamp = Number(request?.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before);
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1_000));

    // Delivered at once: its record says all there is, no attempt log is kept.
    expect(await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'ok')).toEqual([]);
    await h.waitForJobState(ok, eventId, 'completed');
    const line = h.logLines.find((entry) => entry['eventId'] === eventId && entry['msg'] === 'delivery.attempted');
    expect(line).toMatchObject({ flow: 'payments', destination: 'ok', attempt: 1, statusCode: 200, outcome: 'delivered', durationMs: expect.any(Number) });
  });

  it('retries 500s and delivers on the third attempt with the same webhook-id, logging and counting every attempt', async () => {
    const flaky = h.destination('flaky');
    const eventId = await h.publish([flaky]);

    const record = await h.waitForRecord(eventId, flaky, isSettled);
    expect(record).toMatchObject({ status: 'delivered', attempts: 3, statusCode: 200 });
    const attempts = await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'flaky');
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
    ['bad-request', 'HTTP 400', undefined],
    ['gone', 'HTTP 410', 'subscription cancelled'],
  ])('dead-letters %s at once: one attempt, the job in the failed set without a stack trace, the record dead', async (name, error, response) => {
    const destination = h.destination(name);
    const eventId = await h.publish([destination]);

    const record = await h.waitForRecord(eventId, destination, isSettled);
    expect(record).toMatchObject({ status: 'dead', attempts: 1, error });
    expect(await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, name)).toEqual([expect.objectContaining({ attempt: 1, outcome: 'dead', error, ...(response ? { response } : {}) })]);
    await h.waitForJobState(destination, eventId, 'failed');
    const job = await h.queue(destination).getJob(eventId);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toBe(error);
    expect(job?.stacktrace).toEqual([]);
    expect(h.receiver.requestsTo(`/${name}`).filter((request) => request.headers['webhook-id'] === eventId)).toHaveLength(1);
  });

  it('dead-letters after the last attempt when the destination always fails', async () => {
    const down = h.destination('down');
    const eventId = await h.publish([down]);

    const record = await h.waitForRecord(eventId, down, isSettled);
    expect(record).toMatchObject({ status: 'dead', attempts: 3, error: 'HTTP 500', statusCode: 500 });
    expect((await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'down')).map((attempt) => attempt.outcome)).toEqual(['retry', 'retry', 'dead']);
    await h.waitForJobState(down, eventId, 'failed');
    expect((await h.queue(down).getJob(eventId))?.attemptsMade).toBe(3);
    expect(h.receiver.requestsTo('/down')).toHaveLength(3);
  });

  it('dead-letters a delivery whose payload is no longer stored, without sending anything', async () => {
    const ok = h.destination('ok');
    const sentBefore = h.receiver.requestsTo('/ok').length;
    await h.workers.stop(1_000);
    const eventId = await h.publish([ok]);
    const partition = h.keys.partitionOf(eventId);
    await h.redis.del(partition.stream);
    // Workers for this test and the ones after it (the harness stops them).
    await h.startMoreWorkers();

    await expect(h.waitForRecord(eventId, ok, isSettled)).resolves.toMatchObject({ status: 'dead', attempts: 1, error: PAYLOAD_GONE });
    await h.waitForJobState(ok, eventId, 'failed');
    expect(h.receiver.requestsTo('/ok')).toHaveLength(sentBefore);
  });

  it('refuses a job that names no real event of the flow (added or edited by hand) and sends nothing', async () => {
    const ok = h.destination('ok');
    const sentBefore = h.receiver.requestsTo('/ok').length;
    const forged = newEventId();
    const real = await h.publish([]);
    const { opts } = deliveryJob(ok, { eventId: forged, streamId: '1-0', flow: 'payments', receivedAt: 1 });
    await h.queue(ok).add(DELIVERY_JOB_NAME, { eventId: forged, streamId: '1-0', flow: 'payments', destination: 'ok', receivedAt: 1 }, opts);
    // A real event, but a job id that is not its own: a copy (Bull Board's Duplicate).
    await h.queue(ok).add(DELIVERY_JOB_NAME, { eventId: real, streamId: '1-0', flow: 'payments', destination: 'ok', receivedAt: 1 }, { ...opts, jobId: 'copy-1' });

    await h.waitForJobState(ok, forged, 'failed');
    await h.waitForJobState(ok, 'copy-1', 'failed');
    expect((await h.queue(ok).getJob(forged))?.failedReason).toBe('no event with this id is stored');
    expect((await h.queue(ok).getJob('copy-1'))?.failedReason).toBe(`a delivery job's id is its event id; job copy-1 names event ${real} (a copy)`);
    expect(h.receiver.requestsTo('/ok')).toHaveLength(sentBefore);
    expect(h.logLines.some((line) => line['msg'] === 'delivery.refused' && line['eventId'] === forged)).toBe(true);
  });

  it('sends nothing for a delivery already delivered, whoever made its job again', async () => {
    const ok = h.destination('ok');
    const eventId = await h.publish([ok]);
    await h.waitForJobState(ok, eventId, 'completed');
    const sentBefore = h.receiver.requestsTo('/ok').length;
    // As a dispatcher that re-read the entry after its consumer group was lost: the completed job is gone, a new one is made.
    await (await h.queue(ok).getJob(eventId))?.remove();
    const receivedAt = Date.now();
    const { name, data, opts } = deliveryJob(ok, { eventId, streamId: (await readEventRecord(h.redis, h.keys.partitionOf(eventId), eventId))!.streamId, flow: 'payments', receivedAt });
    await h.queue(ok).add(name, data, opts);

    await h.waitForJobState(ok, eventId, 'completed');
    expect(h.receiver.requestsTo('/ok')).toHaveLength(sentBefore);
    expect(h.logLines.some((line) => line['msg'] === 'delivery.already_settled' && line['eventId'] === eventId)).toBe(true);
  });

  it('fails a malformed job at once', async () => {
    const ok = h.destination('ok');
    const eventId = newEventId();
    // A job no dispatcher would write: the schema check is what is under test.
    const malformed = { eventId } as unknown as DeliveryJob;
    await h.queue(ok).add(DELIVERY_JOB_NAME, malformed, { jobId: eventId, attempts: 3 });

    await h.waitForJobState(ok, eventId, 'failed');
    const job = await h.queue(ok).getJob(eventId);
    expect(job?.failedReason).toMatch(/^not a delivery job: .*streamId/);
    expect(job?.attemptsMade).toBe(1);
  });
});
