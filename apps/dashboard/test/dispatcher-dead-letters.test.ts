import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { readDeliveryRecord } from '@fanout/delivery';
import { flowPlans, startDispatcher, type Dispatcher } from '@fanout/dispatcher';
import { appendEvent, deadLetterEntries, ensureDispatcherGroup, readNewEvents } from '@fanout/event-log';
import { createLogger, createMetrics } from '@fanout/observability';
import { httpDestination, testFlow } from '@fanout/testkit';
import type { Redis } from 'ioredis';
import { adminRequest, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' })]);
const path = '/dispatcher/dead-letters';

interface Page {
  items: { id: string; streamId: string; reason: string; deliveryCount: number; deadLetteredAt: string; entry: Record<string, string>; bodyBytes: number | null }[];
  total: number;
  limit: number;
  nextCursor: string | null;
}

describe('GET /dispatcher/dead-letters', () => {
  let harness: DashboardHarness;
  beforeEach(async () => {
    harness = await startDashboard({ flows: [flow] });
  });
  afterEach(() => harness.close());

  /** Stores `count` events of a flow no longer loaded and dead-letters them as the dispatcher does, oldest first. */
  async function deadLetter(count: number): Promise<string[]> {
    const { redis, keys } = harness.fx;
    const partition = keys.partitions[0]!;
    await ensureDispatcherGroup(redis, partition);
    const streamIds: string[] = [];
    for (let i = 0; i < count; i++) {
      streamIds.push(await appendEvent(redis, partition, { id: `event-${i}`, flow: 'gone', receivedAt: Date.UTC(2025, 0, 1), contentType: 'application/json', body: Buffer.from(`{"n":${i}}`) }, 60_000));
    }
    await readNewEvents(redis, partition, 'dispatcher-a', count, 10);
    for (const streamId of streamIds) await deadLetterEntries(redis, partition, [{ streamId, reason: 'flow "gone" is not loaded', deliveryCount: 1 }], Date.UTC(2025, 0, 2));
    return streamIds;
  }

  it('lists the entries the dispatcher gave up on, newest first, with the reason, the count, the time and the stored fields', async () => {
    const [streamId] = await deadLetter(1);
    const response = await adminRequest(`${harness.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      items: [
        {
          id: expect.stringMatching(/^\d+-\d+$/),
          streamId,
          reason: 'flow "gone" is not loaded',
          deliveryCount: 1,
          deadLetteredAt: '2025-01-02T00:00:00.000Z',
          entry: { id: 'event-0', flow: 'gone', receivedAt: String(Date.UTC(2025, 0, 1)), contentType: 'application/json' },
          bodyBytes: 7,
        },
      ],
      total: 1,
      limit: 50,
      nextCursor: null,
    });
  });

  it('pages with nextCursor until null', async () => {
    const streamIds = await deadLetter(5);
    const pages: Page[] = [];
    let url = `${harness.url}${path}?limit=2`;
    for (;;) {
      const page = (await adminRequest(url)).body as Page;
      pages.push(page);
      if (page.nextCursor === null) break;
      url = `${harness.url}${path}?limit=2&cursor=${page.nextCursor}`;
    }
    expect(pages.map(({ items, total, limit }) => ({ size: items.length, total, limit }))).toEqual([
      { size: 2, total: 5, limit: 2 },
      { size: 2, total: 5, limit: 2 },
      { size: 1, total: 5, limit: 2 },
    ]);
    expect(pages.flatMap(({ items }) => items.map((item) => item.streamId))).toEqual([...streamIds].reverse());
  });

  it('answers an empty page when there are none', async () => {
    expect((await adminRequest(`${harness.url}${path}`)).body).toEqual({ items: [], total: 0, limit: 50, nextCursor: null });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['cursor=abc', 'cursor'],
    ['partition=1', 'partition'],
  ])('answers 400 REQUEST_INVALID naming the parameter for %s', async (query, parameter) => {
    const response = await adminRequest(`${harness.url}${path}?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'REQUEST_INVALID', message: expect.stringMatching(new RegExp(`^${parameter}: `)) } });
  });
});

describe('POST /dispatcher/dead-letters/replay', () => {
  // `late` is loaded again (here and by the dispatcher); `gone` still is not.
  const late = testFlow('late', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/late' })]);
  let harness: DashboardHarness;
  let dispatcher: Dispatcher | undefined;
  let blocking: Redis | undefined;
  afterEach(async () => {
    await dispatcher?.stop();
    blocking?.disconnect();
    [dispatcher, blocking] = [undefined, undefined];
    await harness.close();
  });

  it('dispatches the entries whose flow is loaded again, once, and keeps the others with their reason', async () => {
    harness = await startDashboard({ flows: [flow, late] });
    const { redis, keys } = harness.fx;
    const partition = keys.partitions[0]!;
    await ensureDispatcherGroup(redis, partition);
    const events = [
      { id: newEventId(), flow: 'late' },
      { id: newEventId(), flow: 'gone' },
      { id: newEventId(), flow: 'late' },
    ];
    const streamIds: string[] = [];
    for (const { id, flow: name } of events) streamIds.push(await appendEvent(redis, partition, { id, flow: name, receivedAt: Date.now(), contentType: 'application/json', body: Buffer.from(`{"for":"${name}"}`) }, 60_000));
    await readNewEvents(redis, partition, 'dispatcher-a', events.length, 10);
    await deadLetterEntries(redis, partition, streamIds.map((streamId, i) => ({ streamId, reason: `flow "${events[i]!.flow}" is not loaded`, deliveryCount: 1 })), Date.now());
    const listed = ((await adminRequest(`${harness.url}${path}`)).body as Page).items;
    const goneDeadLetter = listed.find((item) => item.entry['flow'] === 'gone')!.id;

    const reading = (blocking = harness.bullConnection.duplicate());
    const findFlow = (name: string) => [flow, late].find((candidate) => candidate.name === name);
    dispatcher = startDispatcher({ plans: flowPlans({ findFlow, redis, keys }), redis: reading, writer: redis, partition, queues: harness.queues, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), consumer: 'd', blockMs: 100, claimIdleMs: 30_000, eventRecordTtlMs: 60_000, streamRetentionMs: 600_000 });

    // Two at once: each dead letter is put back once.
    const answers = await Promise.all([1, 2].map(() => adminRequest(`${harness.url}${path}/replay`, { method: 'POST' })));
    expect(answers.map(({ status }) => status)).toEqual([202, 202]);
    const results = answers.map(({ body }) => body as { queued: number; undeliverable: { id: string; reason: string }[]; notFound: string[] });
    expect(results.reduce((sum, { queued }) => sum + queued, 0)).toBe(2);
    for (const { undeliverable } of results) expect(undeliverable).toEqual([{ id: goneDeadLetter, reason: 'flow "gone" is not loaded' }]);

    const orders = harness.queues.get('late', 'orders')!;
    for (const { id } of [events[0]!, events[2]!]) {
      const deadline = Date.now() + 10_000;
      while ((await readDeliveryRecord(redis, partition, id, 'orders'))?.status !== 'pending') {
        if (Date.now() > deadline) throw new Error(`event ${id} was never dispatched`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await orders.getJobState(id)).toBe('waiting');
    }
    expect(await orders.getWaitingCount()).toBe(2);
    expect(await redis.xlen(partition.stream)).toBe(events.length + 2);
    expect(((await adminRequest(`${harness.url}${path}`)).body as Page).items.map((item) => [item.id, item.reason])).toEqual([[goneDeadLetter, 'flow "gone" is not loaded']]);

    const again = await adminRequest(`${harness.url}${path}/replay`, { method: 'POST', body: JSON.stringify({ ids: [goneDeadLetter, '1-1'] }) });
    expect(again.body).toEqual({ queued: 0, undeliverable: [{ id: goneDeadLetter, reason: 'flow "gone" is not loaded' }], notFound: ['1-1'] });
  });

  it.each([
    ['a dead letter id of another shape', '{"ids": ["event-1"]}', /^ids\.0: expected a dispatcher dead letter id/],
    ['a misspelt field', '{"id": []}', /^body: .*"id"/],
  ])('answers 400 REQUEST_INVALID for %s', async (_case, body, message) => {
    harness = await startDashboard({ flows: [flow] });
    const response = await adminRequest(`${harness.url}${path}/replay`, { method: 'POST', body });
    expect([response.status, response.body]).toEqual([400, { error: { code: 'REQUEST_INVALID', message: expect.stringMatching(message) } }]);
  });
});
