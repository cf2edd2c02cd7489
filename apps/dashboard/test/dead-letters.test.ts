import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { readDeliveryRecord, readEventRecord, type DeliveryRecord } from '@fanout/delivery';
import type { DeliveryQueue } from '@fanout/queues';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, dispatchEvents, failAllWaiting, replayAndWait, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:9/b' })]);
const base = '/flows/payments/destinations/orders/dead-letters';
const NOW = Date.UTC(2025, 5, 1);

interface Page {
  items: { eventId: string; failedReason: string; attempts: number; failedAt: string; receivedAt: string }[];
  total: number;
  limit: number;
  offset: number;
  nextOffset: number | null;
}

describe('dead letters', () => {
  let harness: DashboardHarness;
  let orders: DeliveryQueue;
  beforeEach(async () => {
    harness = await startDashboard({ flows: [flow], now: () => NOW });
    const queue = harness.queues.get('payments', 'orders');
    if (!queue) throw new Error('no queue for payments/orders');
    orders = queue;
  });
  afterEach(() => harness.close());

  /** Events dead-lettered for `orders`, oldest first, each with a `dead` record after one attempt. */
  async function deadLetter(count: number, options?: { sequential: boolean }): Promise<string[]> {
    const ids = await dispatchEvents(harness, flow, count, Date.UTC(2025, 0, 1));
    await failAllWaiting(harness, orders, count, options);
    return ids;
  }

  describe('GET …/dead-letters', () => {
    it('lists the failed jobs newest first, with total and nextOffset', async () => {
      const ids = await deadLetter(5);
      const newestFirst = [...ids].reverse();

      const first = await adminRequest(`${harness.url}${base}?limit=2`);
      expect(first.status).toBe(200);
      const page = first.body as Page;
      expect(page).toEqual({ items: expect.any(Array), total: 5, limit: 2, offset: 0, nextOffset: 2 });
      expect(page.items[0]).toEqual({ eventId: newestFirst[0], failedReason: 'HTTP 410', attempts: 1, failedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/), receivedAt: '2025-01-01T00:00:00.000Z' });
      expect(Date.parse(page.items[0]!.failedAt)).toBeGreaterThan(Date.parse(page.items[1]!.failedAt));

      const pages = [page];
      for (let next = page.nextOffset; next !== null; ) {
        const more = (await adminRequest(`${harness.url}${base}?limit=2&offset=${next}`)).body as Page;
        pages.push(more);
        next = more.nextOffset;
      }
      expect(pages.map((p) => [p.offset, p.nextOffset])).toEqual([
        [0, 2],
        [2, 4],
        [4, null],
      ]);
      expect(pages.flatMap((p) => p.items.map((item) => item.eventId))).toEqual(newestFirst);
    });

    it('defaults to 50 from offset 0, and answers an empty page past the end', async () => {
      await deadLetter(1);
      expect((await adminRequest(`${harness.url}${base}`)).body).toEqual(expect.objectContaining({ total: 1, limit: 50, offset: 0, nextOffset: null }));
      expect((await adminRequest(`${harness.url}${base}?offset=10`)).body).toEqual({ items: [], total: 1, limit: 50, offset: 10, nextOffset: null });
      expect((await adminRequest(`${harness.url}/flows/payments/destinations/archive/dead-letters`)).body).toEqual({ items: [], total: 0, limit: 50, offset: 0, nextOffset: null });
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1.5', 'limit'],
      ['offset=-1', 'offset'],
    ])('answers 400 REQUEST_INVALID naming the parameter for %s', async (query, parameter) => {
      const response = await adminRequest(`${harness.url}${base}?${query}`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'REQUEST_INVALID', message: expect.stringMatching(new RegExp(`^${parameter}: `)) } });
    });

    it('answers 404 FLOW_NOT_FOUND and DESTINATION_NOT_FOUND', async () => {
      const noFlow = await adminRequest(`${harness.url}/flows/nope/destinations/orders/dead-letters`);
      expect([noFlow.status, noFlow.body]).toEqual([404, { error: { code: 'FLOW_NOT_FOUND', message: expect.any(String) } }]);
      const noDestination = await adminRequest(`${harness.url}/flows/payments/destinations/nope/dead-letters`);
      expect([noDestination.status, noDestination.body]).toEqual([404, { error: { code: 'DESTINATION_NOT_FOUND', message: expect.any(String) } }]);
      const replay = await adminRequest(`${harness.url}/flows/payments/destinations/nope/dead-letters/replay`, { method: 'POST' });
      expect([replay.status, replay.body]).toEqual([404, { error: { code: 'DESTINATION_NOT_FOUND', message: expect.any(String) } }]);
    });
  });

  describe('POST …/dead-letters/replay', () => {
    async function expectReplayed(ids: readonly string[]): Promise<void> {
      for (const id of ids) {
        const job = await orders.getJob(id);
        expect({ id, state: await orders.getJobState(id), attemptsMade: job?.attemptsMade, failedReason: job?.failedReason ?? null }).toEqual({ id, state: 'waiting', attemptsMade: 0, failedReason: null });
        const record: DeliveryRecord | undefined = await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(id), id, 'orders');
        expect(record).toEqual({ status: 'pending', attempts: 1, at: NOW });
      }
    }

    it('replays every dead letter with its job id and a fresh set of attempts, records back to pending', async () => {
      const ids = await deadLetter(3);
      const { started, finished } = await replayAndWait(harness, `${base}/replay`);
      expect(started).toEqual({ replay: expect.any(String), matched: 3 });
      expect(finished).toMatchObject({ matched: 3, queued: 3, skipped: 0, done: 3 });
      await expectReplayed(ids);
      expect(await orders.getFailedCount()).toBe(0);
      expect(await orders.getWaitingCount()).toBe(3);
    });

    it('pages through a failed set larger than one page', async () => {
      const ids = await deadLetter(230, { sequential: false });
      const { finished } = await replayAndWait(harness, `${base}/replay`, {});
      expect(finished).toMatchObject({ matched: 230, queued: 230 });
      expect(await orders.getFailedCount()).toBe(0);
      expect((await orders.getWaiting(0, -1)).map((job) => job.id).sort()).toEqual([...ids].sort());
    });

    it('replays each dead letter once even when replayed deliveries fail again during the replay', async () => {
      const ids = await deadLetter(150, { sequential: false });
      const failingAgain = failAllWaiting(harness, orders, 150, { sequential: false });
      const { finished } = await replayAndWait(harness, `${base}/replay`);
      expect(finished).toMatchObject({ matched: 150, queued: 150 });
      expect((await failingAgain).sort()).toEqual([...ids].sort());
      const failed = await orders.getFailed(0, -1);
      expect(failed).toHaveLength(150);
      // One attempt each since the replay: the replay gave them a fresh set.
      expect(new Set(failed.map((job) => job.attemptsMade))).toEqual(new Set([1]));
    });

    it('queues each dead letter once when replays run concurrently', async () => {
      const ids = await deadLetter(40, { sequential: false });
      const replays = await Promise.all([replayAndWait(harness, `${base}/replay`), replayAndWait(harness, `${base}/replay`), replayAndWait(harness, `${base}/replay`, { ids }), replayAndWait(harness, `${base}/replay`, { ids })]);
      expect(replays.reduce((sum, { finished }) => sum + finished.queued, 0)).toBe(40);
      expect(await orders.getWaitingCount()).toBe(40);
    });

    it('keeps a dead letter’s event record as long as the dead letter, and replays none whose record is gone', async () => {
      const [kept = '', forgotten = ''] = await deadLetter(2);
      const partition = harness.fx.keys.partitionOf(kept);
      // The event records' own retention is 600 s here; the dead letters' is a day: their copies keep the records.
      expect(await harness.fx.redis.pttl(partition.deadLetterEvent(kept))).toBeGreaterThan(600_000);
      expect(await harness.fx.redis.hexists(partition.deadLetterEvent(kept), 'record')).toBe(1);
      // Forgotten: neither its bucket nor its copy holds its record any longer.
      const forgottenIn = harness.fx.keys.partitionOf(forgotten);
      await harness.fx.redis.hdel(forgottenIn.eventRecords(forgotten), forgotten);
      await harness.fx.redis.hdel(forgottenIn.deadLetterEvent(forgotten), 'record');
      const { started, finished } = await replayAndWait(harness, `${base}/replay`, { ids: [kept, forgotten] });
      expect(started).toMatchObject({ matched: 2, notFound: [] });
      expect(finished).toMatchObject({ queued: 1, skipped: 1, done: 2 });
      expect(await orders.getJobState(forgotten)).toBe('failed');
      expect(await readEventRecord(harness.fx.redis, harness.fx.keys.partitionOf(forgotten), forgotten)).toBeUndefined();
    });

    it('replays only the named event ids and reports those not dead-lettered', async () => {
      const [first = '', second = '', third = ''] = await deadLetter(3);
      const unknown = newEventId();
      const { status, started, finished } = await replayAndWait(harness, `${base}/replay`, { ids: [third, unknown, first, third] });
      expect(status).toBe(202);
      expect(started).toEqual({ replay: expect.any(String), matched: 2, notFound: [unknown] });
      expect(finished).toMatchObject({ queued: 2, filters: { ids: [third, unknown, first, third] } });
      await expectReplayed([first, third]);
      expect(await orders.getJobState(second)).toBe('failed');

      const again = await replayAndWait(harness, `${base}/replay`, { ids: [first] });
      expect(again.started).toMatchObject({ matched: 0, notFound: [first] });
      expect(again.finished).toMatchObject({ status: 'finished', queued: 0 });
    });

    it.each([
      ['malformed JSON', '{"ids": [', /^Unexpected|JSON|body/i],
      ['a misspelt field', '{"id": ["x"]}', /^body: .*"id"/],
      ['ids not an array', '{"ids": "x"}', /^ids: /],
      ['an empty id', '{"ids": [""]}', /^ids\.0: /],
      ['an array body', '["x"]', /^body: /],
    ])('answers 400 REQUEST_INVALID for %s', async (_case, body, message) => {
      await deadLetter(1);
      const response = await adminRequest(`${harness.url}${base}/replay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ error: { code: 'REQUEST_INVALID', message: expect.stringMatching(message) } });
      expect(await orders.getFailedCount()).toBe(1);
    });
  });
});
