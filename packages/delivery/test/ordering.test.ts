import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { deliveryState, readDeliveryRecord, readLineHead, recordDispatches, takeIdleLines, type DeliveryState, type LineHead } from '@fanout/delivery';
import { appendEvent, holdDispatchLease } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';
import { createRedisFixture, recordAsDispatched, TEST_DISPATCHER, type RedisFixture } from '@fanout/testkit';

const TTL = 60_000;
/** The line of `payments.orders` for fifo, and two of `payments.ledger` ordered by customer. */
const FIFO = 'payments.orders:fifo';
const ALICE = 'payments.ledger:alice';
const BOB = 'payments.ledger:bob';

describe('ordered deliveries: lines', () => {
  let fx: RedisFixture;
  let p: PartitionKeys;
  let state: DeliveryState;
  let clock: number;
  beforeEach(async () => {
    fx = await createRedisFixture();
    p = fx.keys.partitions[0]!;
    clock = 1_700_000_000_000;
    state = deliveryState({ redis: fx.redis, keys: fx.keys, attemptLogTtlMs: TTL, now: () => clock });
  });
  afterEach(() => fx.cleanup());

  interface Dispatched extends LineHead {
    readonly status: string | undefined;
  }

  /** An event stored and dispatched to `orders` in `line` as the dispatcher does; answers it with its delivery's first status. */
  async function dispatched(line = FIFO, destination = 'orders'): Promise<Dispatched> {
    const eventId = newEventId();
    const receivedAt = clock;
    const streamId = await appendEvent(fx.redis, p, { id: eventId, flow: 'payments', receivedAt, contentType: 'application/json', body: Buffer.from('{}') }, TTL);
    const [statuses] = await recordAsDispatched(fx.redis, p, [{ eventId, flow: 'payments', receivedAt, streamId, destinations: new Map([[destination, { line }]]) }], TTL, clock);
    return { eventId, streamId, receivedAt, status: statuses?.get(destination) };
  }
  const job = ({ eventId, streamId }: LineHead, line = FIFO, destination = 'orders') => ({ eventId, streamId, flow: 'payments', destination, line });
  const facts = (attempt: number) => ({ attempt, startedAt: clock, durationMs: 5, statusCode: 200 });
  const lineOf = async (line = FIFO): Promise<string[]> => (await fx.redis.lrange(p.line(line), 0, -1)).map((member) => member.split('|')[0]!);

  it('lets the first of a line go and holds every later one, in dispatch order', async () => {
    const [a, b, c] = [await dispatched(), await dispatched(), await dispatched()];
    expect([a.status, b.status, c.status]).toEqual(['pending', 'held', 'held']);
    expect(await lineOf()).toEqual([a.eventId, b.eventId, c.eventId]);
    expect(await readDeliveryRecord(fx.redis, p, b.eventId, 'orders')).toMatchObject({ status: 'held', attempts: 0 });
    // A job of a held delivery that runs anyway sends nothing and spends no attempt.
    expect(await state.begin(job(b))).toEqual({ kind: 'held', waitingFor: { eventId: a.eventId, streamId: a.streamId, receivedAt: a.receivedAt } });
    expect(await readDeliveryRecord(fx.redis, p, b.eventId, 'orders')).toMatchObject({ status: 'held', attempts: 0 });
    expect(await state.begin(job(a))).toMatchObject({ kind: 'send', attempt: 1 });
  });

  it('releases the next of the line when the first is delivered, and the line is gone once empty', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    await state.begin(job(a));
    expect(await state.markDelivered(job(a), facts(1))).toEqual({ status: 'delivered', next: { eventId: b.eventId, streamId: b.streamId, receivedAt: b.receivedAt } });
    expect(await state.begin(job(b))).toMatchObject({ kind: 'send', attempt: 1 });
    expect(await state.markDelivered(job(b), facts(1))).toEqual({ status: 'delivered' });
    expect(await fx.redis.exists(p.line(FIFO))).toBe(0);
    expect(await fx.redis.zscore(p.lines, p.line(FIFO))).toBeNull();
  });

  it('holds the line while its first retries, and lets the next go once it is dead', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    await state.begin(job(a));
    expect((await state.scheduleRetry(job(a), facts(1), 'HTTP 500')).status).toBe('retrying');
    expect(await readLineHead(fx.redis, p, FIFO)).toMatchObject({ eventId: a.eventId });
    expect(await state.begin(job(b))).toMatchObject({ kind: 'held' });
    await state.begin(job(a));
    expect(await state.deadLetter(job(a), { error: 'HTTP 500', attempt: facts(2), retentionMs: TTL })).toMatchObject({ status: 'dead', next: { eventId: b.eventId } });
    expect(await state.begin(job(b))).toMatchObject({ kind: 'send' });
  });

  it('keeps each key’s line to itself: a retrying key holds back no other', async () => {
    const alice1 = await dispatched(ALICE, 'ledger');
    const bob1 = await dispatched(BOB, 'ledger');
    const alice2 = await dispatched(ALICE, 'ledger');
    expect([alice1.status, bob1.status, alice2.status]).toEqual(['pending', 'pending', 'held']);
    await state.begin(job(alice1, ALICE, 'ledger'));
    await state.scheduleRetry(job(alice1, ALICE, 'ledger'), facts(1), 'HTTP 503');
    expect(await state.begin(job(bob1, BOB, 'ledger'))).toMatchObject({ kind: 'send' });
    expect(await state.begin(job(alice2, ALICE, 'ledger'))).toMatchObject({ kind: 'held', waitingFor: { eventId: alice1.eventId } });
  });

  it('tells a job of a settled delivery which delivery is first now, so a worker that died after the settle is made good', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    await state.begin(job(a));
    await state.markDelivered(job(a), facts(1));
    expect(await state.begin(job(a))).toMatchObject({ kind: 'settled', record: { status: 'delivered' }, next: { eventId: b.eventId } });
  });

  it('takes a delivery whose event is no longer stored out of its line, and names the next', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    await fx.redis.hdel(p.eventRecords(a.eventId), a.eventId);
    expect(await state.begin(job(a))).toEqual({ kind: 'refused', reason: 'no event with this id is stored', next: { eventId: b.eventId, streamId: b.streamId, receivedAt: b.receivedAt } });
    expect(await lineOf()).toEqual([b.eventId]);
  });

  it('sends a replayed dead letter after those waiting now: out of its order, held behind them', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    await state.begin(job(a));
    await state.deadLetter(job(a), { error: 'HTTP 410', attempt: facts(1), retentionMs: TTL });
    expect(await state.replay(job(a))).toBe('dead');
    expect(await lineOf()).toEqual([b.eventId, a.eventId]);
    expect(await readDeliveryRecord(fx.redis, p, a.eventId, 'orders')).toMatchObject({ status: 'held', attempts: 1 });
    expect(await state.begin(job(a))).toMatchObject({ kind: 'held', waitingFor: { eventId: b.eventId } });
    await state.begin(job(b));
    expect((await state.markDelivered(job(b), facts(1))).next).toMatchObject({ eventId: a.eventId });
    expect(await state.begin(job(a))).toMatchObject({ kind: 'send', attempt: 2 });
  });

  it('sends a replayed dead letter at once when nothing waits before it', async () => {
    const a = await dispatched();
    await state.begin(job(a));
    await state.deadLetter(job(a), { error: 'HTTP 410', attempt: facts(1), retentionMs: TTL });
    await state.replay(job(a));
    expect(await readDeliveryRecord(fx.redis, p, a.eventId, 'orders')).toMatchObject({ status: 'pending' });
    expect(await state.begin(job(a))).toMatchObject({ kind: 'send', attempt: 2 });
  });

  it('does not join a line twice when an entry is dispatched again', async () => {
    const [a, b] = [await dispatched(), await dispatched()];
    const [again] = await recordAsDispatched(fx.redis, p, [{ eventId: a.eventId, flow: 'payments', receivedAt: a.receivedAt, streamId: a.streamId, destinations: new Map([['orders', { line: FIFO }]]) }], TTL, clock);
    expect(again?.get('orders')).toBe('pending');
    expect(await lineOf()).toEqual([a.eventId, b.eventId]);
  });

  it('lets only the holder of the dispatch lease join lines', async () => {
    const eventId = newEventId();
    await holdDispatchLease(fx.redis, p, 'another-dispatcher', TTL);
    const event = { eventId, flow: 'payments', receivedAt: clock, streamId: '1-0', destinations: new Map([['orders', { line: FIFO }]]) };
    await expect(recordDispatches(fx.redis, p, [event], { recordTtlMs: TTL, now: clock, leaseToken: TEST_DISPATCHER })).rejects.toThrow(/^NOTOWNER/);
    expect(await fx.redis.exists(p.line(FIFO), p.eventRecords(eventId))).toBe(0);
  });

  it('hands the sweep the lines that have not moved, once per idle period', async () => {
    const a = await dispatched();
    await dispatched(ALICE, 'ledger');
    const now = clock + 120_000;
    const idle = await takeIdleLines(fx.redis, p, new Set(['payments.orders']), 60_000, now);
    expect(idle).toEqual([{ line: FIFO, queue: 'payments.orders', head: { eventId: a.eventId, streamId: a.streamId, receivedAt: a.receivedAt } }]);
    expect(await takeIdleLines(fx.redis, p, new Set(['payments.orders']), 60_000, now + 1_000)).toEqual([]);
  });
});
