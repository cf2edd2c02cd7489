import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { deliveryState, destinationHealth, readDeliveryRecord, type AttemptHealth, type DeliveryState, type DestinationHealth, type NamedDelivery } from '@fanout/delivery';
import { appendEvent } from '@fanout/event-log';
import type { CircuitBreakerPolicy } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import type { PartitionKeys } from '@fanout/redis';
import { createRedisFixture, recordAsDispatched, type RedisFixture } from '@fanout/testkit';

const TTL = 60_000;
const QUEUE = deliveryQueueName('payments', 'orders');
const COOLDOWN = 30_000;
/** Every attempt here lasts this long (ms): the breaker counts it when it ended. */
const DURATION = 5;

describe('destination health in the attempt transitions', () => {
  let fx: RedisFixture;
  let p: PartitionKeys;
  let state: DeliveryState;
  let health: DestinationHealth;
  let clock: number;
  beforeEach(async () => {
    fx = await createRedisFixture();
    p = fx.keys.partitions[0]!;
    clock = 1_700_000_000_000;
    state = deliveryState({ redis: fx.redis, keys: fx.keys, attemptLogTtlMs: TTL, now: () => clock });
    health = destinationHealth({ redis: fx.redis, keys: fx.keys, now: () => clock });
  });
  afterEach(() => fx.cleanup());

  async function dispatched(): Promise<NamedDelivery> {
    const id = newEventId();
    const streamId = await appendEvent(fx.redis, p, { id, flow: 'payments', receivedAt: clock, contentType: 'application/json', body: Buffer.from('{}') }, TTL);
    await recordAsDispatched(fx.redis, p, [{ eventId: id, flow: 'payments', receivedAt: clock, streamId, destinations: new Map([['orders', true]]) }], TTL, clock);
    return { eventId: id, destination: 'orders', flow: 'payments', streamId };
  }
  const facts = (attempt: number) => ({ attempt, startedAt: clock, durationMs: DURATION });
  const consecutive = (count: number): CircuitBreakerPolicy => ({ trip: { kind: 'consecutiveFailures', count }, cooldownMs: COOLDOWN, redrive: true });
  const counted = (breaker: CircuitBreakerPolicy, healthy: boolean): AttemptHealth => ({ queue: QUEUE, breaker, healthy });

  /** Begins an attempt and records it failed (a retry). */
  async function fail(job: NamedDelivery, breaker: CircuitBreakerPolicy) {
    const begun = await state.begin(job);
    if (begun.kind !== 'send') return begun;
    return state.scheduleRetry(job, facts(begun.attempt), 'HTTP 500', counted(breaker, false));
  }

  it('opens at the threshold of failures in a row; a success in between starts the count again', async () => {
    const breaker = consecutive(3);
    const job = await dispatched();
    expect(await fail(job, breaker)).toEqual({ status: 'retrying' });
    expect(await fail(job, breaker)).toEqual({ status: 'retrying' });
    const other = await dispatched();
    await state.begin(other);
    expect(await state.markDelivered(other, facts(1), counted(breaker, true))).toEqual({ status: 'delivered' });
    expect(await fail(job, breaker)).toEqual({ status: 'retrying' });
    expect(await fail(job, breaker)).toEqual({ status: 'retrying' });
    expect(await fail(job, breaker)).toEqual({ status: 'retrying', breaker: { to: 'open', reopened: false } });
    expect(await health.read(QUEUE)).toEqual({ state: 'open', until: clock + DURATION + COOLDOWN });
  });

  it('gates every begin while open, without numbering an attempt; half-open lets one probe through, whose success closes it', async () => {
    const breaker = consecutive(1);
    const [job, other] = [await dispatched(), await dispatched()];
    const firstFailureAt = clock + DURATION;
    await fail(job, breaker);
    clock += 1_000;
    expect(await state.begin(other)).toEqual({ kind: 'gated', state: 'open', until: firstFailureAt + COOLDOWN });
    expect(await readDeliveryRecord(fx.redis, p, other.eventId, 'orders')).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await health.halfOpen(QUEUE)).toBe(false);

    clock = firstFailureAt + COOLDOWN;
    expect(await health.halfOpen(QUEUE)).toBe(true);
    expect(await health.halfOpen(QUEUE)).toBe(false);
    const probe = await state.begin(other, { probeLeaseMs: 10_000 });
    expect(probe).toMatchObject({ kind: 'send', attempt: 1 });
    expect(await state.begin(job)).toEqual({ kind: 'gated', state: 'half-open', until: clock + 10_000 });
    // The probe's attempt decides; an older attempt's outcome does not.
    expect(await state.scheduleRetry(job, facts(1), 'HTTP 500', counted(breaker, false))).toMatchObject({ status: 'retrying' });
    expect(await health.read(QUEUE)).toMatchObject({ state: 'half-open' });
    expect(await state.markDelivered(other, facts(1), counted(breaker, true))).toEqual({ status: 'delivered', breaker: { to: 'closed', outageFrom: firstFailureAt } });
    expect(await health.read(QUEUE)).toEqual({ state: 'closed' });
    expect(await state.begin(job)).toMatchObject({ kind: 'send' });
  });

  it('gives the probe to another attempt once its lease ran out, and a failed probe opens it again', async () => {
    const breaker = consecutive(1);
    const [job, other] = [await dispatched(), await dispatched()];
    await fail(job, breaker);
    clock += DURATION + COOLDOWN;
    expect(await health.halfOpen(QUEUE)).toBe(true);
    expect(await state.begin(job, { probeLeaseMs: 1_000 })).toMatchObject({ kind: 'send' });
    clock += 1_001;
    const probe = await state.begin(other, { probeLeaseMs: 1_000 });
    expect(probe).toMatchObject({ kind: 'send' });
    expect(await state.deadLetter(other, { error: 'HTTP 500', attempt: facts(1), retentionMs: TTL, health: counted(breaker, false) })).toEqual({ status: 'dead', breaker: { to: 'open', reopened: true } });
    expect(await health.read(QUEUE)).toEqual({ state: 'open', until: clock + DURATION + COOLDOWN });
  });

  it('opens on a failure rate once enough attempts were counted in the window', async () => {
    const breaker: CircuitBreakerPolicy = { trip: { kind: 'failureRate', thresholdPercent: 50, minAttempts: 4, windowMs: 60_000 }, cooldownMs: COOLDOWN, redrive: false };
    const outcome = async (healthy: boolean) => {
      const job = await dispatched();
      await state.begin(job);
      return healthy ? state.markDelivered(job, facts(1), counted(breaker, true)) : state.scheduleRetry(job, facts(1), 'timeout', counted(breaker, false));
    };
    expect(await outcome(false)).toEqual({ status: 'retrying' });
    expect(await outcome(false)).toEqual({ status: 'retrying' });
    expect(await outcome(true)).toEqual({ status: 'delivered' });
    // 3 of 4 failed, 75 % ≥ 50 %.
    expect(await outcome(false)).toEqual({ status: 'retrying', breaker: { to: 'open', reopened: false } });
  });

  it('forgets failures older than the window', async () => {
    const breaker: CircuitBreakerPolicy = { trip: { kind: 'failureRate', thresholdPercent: 50, minAttempts: 2, windowMs: 10_000 }, cooldownMs: COOLDOWN, redrive: false };
    const job = await dispatched();
    await fail(job, breaker);
    clock += 20_000;
    const other = await dispatched();
    await state.begin(other);
    expect(await state.markDelivered(other, facts(1), counted(breaker, true))).toEqual({ status: 'delivered' });
    expect(await health.read(QUEUE)).toEqual({ state: 'closed' });
    // The first attempt of a new tenth of the window dropped the old counters.
    expect(await fx.redis.hkeys(p.destinationHealth(QUEUE))).toEqual([`a:${Math.floor(clock / 1_000)}`]);
    // One failure of two in the window is 50 %: it opens now.
    expect(await fail(job, breaker)).toEqual({ status: 'retrying', breaker: { to: 'open', reopened: false } });
  });

  it('pause gates every begin and drops the counts; resume closes it, and lifts no open breaker', async () => {
    const job = await dispatched();
    expect(await health.pause(QUEUE, 'operator')).toBe('closed');
    expect(await state.begin(job)).toEqual({ kind: 'gated', state: 'paused' });
    expect(await health.pause(QUEUE, 'operator')).toBe('paused');
    expect(await health.resume(QUEUE)).toBe('paused');
    expect(await health.read(QUEUE)).toEqual({ state: 'closed' });
    await fail(job, consecutive(1));
    expect(await health.resume(QUEUE)).toBe('open');
    expect(await health.read(QUEUE)).toMatchObject({ state: 'open' });
  });
});
