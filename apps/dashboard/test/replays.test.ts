import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { decodeMatchedDelivery, deliveryState, replayJob, startReplayer, type Replayer } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import { createLogger, createMetrics } from '@fanout/observability';
import type { DeliveryQueue } from '@fanout/queues';
import { httpDestination, startReceiver, testConnection, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers } from '@fanout/worker';
import type { Redis } from 'ioredis';
import { adminRequest, dispatchEvents, failAllWaiting, replayAndWait, startDashboard, waitForReplay, type DashboardHarness } from './dashboard-harness.js';

jest.setTimeout(45_000);

const base = '/flows/payments/destinations/orders/dead-letters';
const silent = createLogger({ level: 'silent' });

interface ReplayView {
  replay: string;
  status: string;
  matched: number;
  queued: number;
  done: number;
  skipped: number;
  filters: Record<string, unknown>;
  rate?: string;
  reason?: string;
  requester: string;
  requestedAt: string;
  finishedAt?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The most of `times` (ms) that fall in any window [t, t + windowMs). */
function mostInAnyWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

describe('replays of dead letters', () => {
  let harness: DashboardHarness;
  afterEach(() => harness.close());

  describe('filters, dry run, audit', () => {
    const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' })]);
    let orders: DeliveryQueue;

    /** Six dead letters of `orders`, oldest first: three died of `HTTP 410`, then three of `HTTP 503`; with the times they died. */
    async function deadLetters(): Promise<{ ids: string[]; diedAt: number[] }> {
      harness = await startDashboard({ flows: [flow] });
      orders = harness.queues.get('payments', 'orders')!;
      const ids = await dispatchEvents(harness, flow, 3);
      await failAllWaiting(harness, orders, 3, { error: 'HTTP 410: gone' });
      ids.push(...(await dispatchEvents(harness, flow, 3)));
      await failAllWaiting(harness, orders, 3, { error: 'HTTP 503: unavailable' });
      const diedAt = await Promise.all(ids.map(async (id) => (await orders.getJob(id))!.finishedOn!));
      return { ids, diedAt };
    }
    const dryRun = async (filters: object) => adminRequest(`${harness.url}${base}/replay`, { method: 'POST', body: JSON.stringify({ ...filters, dryRun: true }) });

    it('counts what each filter matches in a dry run, and replays nothing', async () => {
      const { ids, diedAt } = await deadLetters();
      const iso = (ms: number) => new Date(ms).toISOString();
      const cases: [object, number][] = [
        [{}, 6],
        [{ error: '503' }, 3],
        [{ error: 'HTTP' }, 6],
        [{ error: 'timeout' }, 0],
        [{ from: iso(diedAt[1]!) }, 5],
        [{ to: iso(diedAt[1]!) }, 2],
        [{ from: iso(diedAt[1]!), to: iso(diedAt[4]!) }, 4],
        [{ from: iso(diedAt[1]!), to: iso(diedAt[4]!), error: '410' }, 2],
        [{ ids: [ids[0], ids[5]], error: '503' }, 1],
      ];
      for (const [filters, matched] of cases) {
        const response = await dryRun(filters);
        expect([filters, response.status, (response.body as { matched: number }).matched]).toEqual([filters, 200, matched]);
      }
      expect((await dryRun({ ids: [ids[0], 'unknown'] })).body).toEqual({ matched: 1, notFound: ['unknown'] });
      expect(await dryRun({ from: '2020-01-01T01:00:00+01:00' })).toMatchObject({ status: 200, body: { matched: 6 } });
      expect(await orders.getFailedCount()).toBe(6);
      // A dry run is no replay: the audit holds none.
      expect((await adminRequest(`${harness.url}/replays`)).body).toMatchObject({ items: [], total: 0 });
    });

    it('replays only what the filters match, and audits it: when, filters, reason, counts, requester', async () => {
      const { ids, diedAt } = await deadLetters();
      const from = new Date(diedAt[1]!).toISOString();
      const { status, started, finished } = await replayAndWait(harness, `${base}/replay`, { error: '410', from, reason: 'orders fixed their 410s' });
      expect(status).toBe(202);
      expect(started).toEqual({ replay: expect.any(String), matched: 2 });
      expect(await Promise.all(ids.map((id) => orders.getJobState(id)))).toEqual(['failed', 'waiting', 'waiting', 'failed', 'failed', 'failed']);

      const second = await replayAndWait(harness, `${base}/replay`, { ids: [ids[3]], rate: '600/m' });
      const audit = (await adminRequest(`${harness.url}/replays`)).body as { items: ReplayView[]; total: number; nextOffset: number | null };
      expect(audit).toMatchObject({ total: 2, limit: 50, offset: 0, nextOffset: null });
      expect(audit.items.map((item) => item.replay)).toEqual([second.started.replay, started.replay]);
      const [newest, oldest] = audit.items;
      expect(oldest).toEqual({
        ...finished,
        flow: 'payments',
        destination: 'orders',
        status: 'finished',
        matched: 2,
        queued: 2,
        skipped: 0,
        done: 2,
        filters: { error: '410', from },
        reason: 'orders fixed their 410s',
        requester: expect.stringMatching(/127\.0\.0\.1$/),
        requestedAt: expect.any(String),
        finishedAt: expect.any(String),
      });
      expect(Date.parse(oldest!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(oldest!.requestedAt));
      expect(newest).toMatchObject({ filters: { ids: [ids[3]] }, rate: '10/s', matched: 1, queued: 1 });
      expect(newest!.reason).toBeUndefined();
      expect((await adminRequest(`${harness.url}/replays?limit=1&offset=1`)).body).toMatchObject({ items: [{ replay: started.replay }], total: 2, nextOffset: null });
      expect((await adminRequest(`${harness.url}/replays?limit=1`)).body).toMatchObject({ items: [{ replay: second.started.replay }], nextOffset: 1 });
      expect(harness.logLines.filter((line) => line['msg'] === 'replay.started')).toHaveLength(2);
      expect(harness.logLines.filter((line) => line['msg'] === 'replay.finished')).toHaveLength(2);
    });

    it.each([
      ['a rate without a unit', { rate: '50' }, /^rate: expected deliveries per second, minute or hour, such as "50\/s" or "600\/m", got "50"$/],
      ['a rate of 0', { rate: '0/s' }, /^rate: a replay rate must be above 0/],
      ['a rate that is no string', { rate: 50 }, /^rate: /],
      ['a from that is no ISO time', { from: 'yesterday' }, /^from: /],
      ['a to before from', { from: '2025-01-02T00:00:00Z', to: '2025-01-01T00:00:00Z' }, /^to: must not be before from$/],
      ['an empty error', { error: '' }, /^error: /],
      ['a dryRun that is no boolean', { dryRun: 'yes' }, /^dryRun: /],
      ['a reason that is no string', { reason: 7 }, /^reason: /],
      ['a misspelt filter', { errors: '503' }, /^body: .*"errors"/],
    ])('answers 400 REQUEST_INVALID naming the field for %s, and starts nothing', async (_case, body, message) => {
      await deadLetters();
      const response = await adminRequest(`${harness.url}${base}/replay`, { method: 'POST', body: JSON.stringify(body) });
      expect([response.status, response.body]).toEqual([400, { error: { code: 'REQUEST_INVALID', message: expect.stringMatching(message) } }]);
      expect(await orders.getFailedCount()).toBe(6);
      expect((await adminRequest(`${harness.url}/replays`)).body).toMatchObject({ total: 0 });
    });

    it('answers 404 REPLAY_NOT_FOUND for an unknown replay, 400 for a bad page', async () => {
      harness = await startDashboard({ flows: [flow] });
      const unknown = await adminRequest(`${harness.url}/replays/nope`);
      expect([unknown.status, unknown.body]).toEqual([404, { error: { code: 'REPLAY_NOT_FOUND', message: 'no replay "nope" was asked for' } }]);
      const page = await adminRequest(`${harness.url}/replays?limit=0`);
      expect([page.status, page.body]).toEqual([400, { error: { code: 'REQUEST_INVALID', message: expect.stringMatching(/^limit: /) } }]);
    });
  });

  describe('delivering to a receiver', () => {
    const deliveries: DeliveryWorkers[] = [];
    const replayers: Replayer[] = [];
    const connections: Redis[] = [];
    let receiver: ScriptedReceiver;
    let destinations: DestinationRegistry;
    let gone = true;
    afterEach(async () => {
      for (const replayer of replayers.splice(0)) await replayer.stop();
      for (const running of deliveries.splice(0)) await running.stop(1_000);
      for (const connection of connections.splice(0)) connection.disconnect();
      await destinations.close();
      await receiver.close();
    });

    /** `count` dead letters of `orders`, each refused once (410) by the receiver, which answers 410 while `gone`, else 200. */
    async function deadAtReceiver(count: number, replayOptions: { replayPollMs?: number } = {}): Promise<{ ids: string[]; orders: DeliveryQueue }> {
      gone = true;
      receiver = await startReceiver();
      receiver.script('/orders', () => ({ status: gone ? 410 : 200 }));
      const flow = testFlow('payments', [httpDestination({ name: 'orders', url: `${receiver.url}/orders`, concurrency: 10 })]);
      harness = await startDashboard({ flows: [flow], ...replayOptions });
      destinations = createDestinationRegistry();
      const state = deliveryState({ redis: harness.fx.redis, keys: harness.fx.keys, attemptLogTtlMs: 600_000, now: Date.now });
      deliveries.push(startWorkers({ flows: [flow], connection: harness.bullConnection, keys: harness.fx.keys, state, destinations, metrics: createMetrics(), logger: silent, minLockDurationMs: 30_000, stalledIntervalMs: 10_000 }));
      const ids = await dispatchEvents(harness, flow, count);
      const orders = harness.queues.get('payments', 'orders')!;
      await until(async () => (await orders.getFailedCount()) === count, `${count} dead letters`);
      return { ids, orders };
    }
    async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`never: ${what}`);
        await sleep(20);
      }
    }
    const requestsPerId = (ids: readonly string[]) => ids.map((id) => receiver.requestsTo('/orders').filter((request) => request.headers['webhook-id'] === id).length);
    const progressOf = async (replay: string) => (await adminRequest(`${harness.url}/replays/${replay}`)).body as ReplayView;

    it('never delivers faster than its rate (measured at the receiver), and shows its progress meanwhile', async () => {
      const { ids } = await deadAtReceiver(30);
      gone = false;
      const response = await adminRequest(`${harness.url}${base}/replay`, { method: 'POST', body: JSON.stringify({ rate: '10/s' }) });
      expect(response).toMatchObject({ status: 202, body: { matched: 30 } });
      const { replay } = response.body as { replay: string };
      const seen: ReplayView[] = [];
      for (let view = await progressOf(replay); view.status === 'running'; view = await progressOf(replay)) {
        seen.push(view);
        await sleep(200);
      }
      const replayed = (await receiver.waitFor('/orders', 60)).slice(30).map((request) => request.receivedAt);
      expect(requestsPerId(ids)).toEqual(ids.map(() => 2));
      // 10/s, queued 111 ms apart (REPLAY_RATE_MARGIN): no second at the receiver holds more than 10, whatever each delivery's latency.
      expect(mostInAnyWindow(replayed, 1_000)).toBeLessThanOrEqual(10);
      expect(Math.max(...replayed) - Math.min(...replayed)).toBeGreaterThanOrEqual(2_900);
      // Progress: running part way, never going back, then finished with every one queued.
      expect(seen.some((view) => view.done > 0 && view.done < 30)).toBe(true);
      expect(seen.map((view) => view.done)).toEqual([...seen.map((view) => view.done)].sort((a, b) => a - b));
      expect(seen.every((view) => view.queued === view.done && view.matched === 30 && view.rate === '10/s')).toBe(true);
      expect(await progressOf(replay)).toMatchObject({ status: 'finished', matched: 30, queued: 30, done: 30, skipped: 0 });
    });

    it('is resumed by another replayer when its replayer stops part way: none lost, none twice', async () => {
      // Still gone: each replayed delivery dies again at once, so a dead letter replayed twice would reach the receiver a third time.
      const { ids, orders } = await deadAtReceiver(20);
      const { replay } = (await adminRequest(`${harness.url}${base}/replay`, { method: 'POST', body: JSON.stringify({ rate: '10/s' }) })).body as { replay: string };
      await until(async () => (await progressOf(replay)).done >= 5, 'five replayed');
      replayers.push(startReplayer({ redis: harness.fx.redis, keys: harness.fx.keys, queues: harness.queues, state: harness.state, logger: silent, pollMs: 100 }));
      await harness.replayer.stop();
      const stoppedAt = (await progressOf(replay)).done;
      expect(stoppedAt).toBeLessThan(20);
      expect(await waitForReplay(harness, replay)).toMatchObject({ matched: 20, queued: 20, skipped: 0 });
      await until(async () => (await orders.getFailedCount()) === 20, 'all dead again');
      expect(requestsPerId(ids)).toEqual(ids.map(() => 2));
    });

    it('is resumed once the lease of a replayer that died runs out: none lost, none twice', async () => {
      const { ids, orders } = await deadAtReceiver(20);
      // Only the replayer that dies runs replays at first.
      await harness.replayer.stop();
      const dying = testConnection(harness.fx.url, 'replayer-that-dies');
      connections.push(dying);
      const first = startReplayer({ redis: dying, keys: harness.fx.keys, queues: harness.queues, state: harness.state, logger: silent, leaseMs: 1_000, pollMs: 50 });
      replayers.push(first);
      const { replay } = (await adminRequest(`${harness.url}${base}/replay`, { method: 'POST', body: JSON.stringify({ rate: '10/s' }) })).body as { replay: string };
      await until(async () => (await progressOf(replay)).done >= 5, 'five replayed');
      // Its connection gone, it writes nothing more and never releases its lease: as a killed process.
      dying.disconnect();
      const diedAt = (await progressOf(replay)).done;
      await sleep(300);
      expect((await progressOf(replay)).done).toBe(diedAt);
      // The worst moment to die: with a batch under way, its first dead letter replayed (and dead
      // again since), the batch not yet recorded as done. Left here as that runner would have left it.
      const keys = harness.fx.keys.replays;
      const cursor = Number(await harness.fx.redis.hget(keys.record(replay), 'cursor'));
      const { eventId } = decodeMatchedDelivery((await harness.fx.redis.lindex(keys.matched(replay), cursor))!);
      expect(await replayJob(harness.state, orders, (await orders.getJob(eventId))!, 'failed')).toBe('replayed');
      await until(async () => requestsPerId([eventId])[0] === 2 && (await orders.getJobState(eventId)) === 'failed', 'the one in flight dead again');
      await harness.fx.redis.hset(keys.record(replay), 'inflight', cursor + 1);
      replayers.push(startReplayer({ redis: harness.fx.redis, keys: harness.fx.keys, queues: harness.queues, state: harness.state, logger: silent, leaseMs: 1_000, pollMs: 100 }));
      expect(await waitForReplay(harness, replay)).toMatchObject({ matched: 20, queued: 20, skipped: 0 });
      await until(async () => (await orders.getFailedCount()) === 20, 'all dead again');
      expect(requestsPerId(ids)).toEqual(ids.map(() => 2));
    });
  });
});
