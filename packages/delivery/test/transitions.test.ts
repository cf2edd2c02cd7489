import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { ATTEMPT_LOG_LENGTH, deliveryState, readAttempts, readDeliveryRecord, readEventRecord, RESPONSE_EXCERPT_CHARS, type DeliveryState, type NamedDelivery } from '@fanout/delivery';
import { appendEvent, encodeEventEntry, type EventEntry } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';
import { createRedisFixture, recordAsDispatched, type RedisFixture } from '@fanout/testkit';

const TTL = 60_000;

describe('the delivery transitions', () => {
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

  /** An event stored and dispatched to `destinations` as the ingress and the dispatcher do; answers its job's names. */
  async function dispatched(destinations: readonly string[] = ['orders'], filtered: readonly string[] = []): Promise<NamedDelivery & { entry: EventEntry }> {
    const entry: EventEntry = { id: newEventId(), flow: 'payments', receivedAt: clock, contentType: 'application/json', body: Buffer.from('{"type":"payment.succeeded"}') };
    const streamId = await appendEvent(fx.redis, p, entry, TTL);
    const map = new Map([...destinations.map((d) => [d, true] as const), ...filtered.map((d) => [d, false] as const)]);
    await recordAsDispatched(fx.redis, p, [{ eventId: entry.id, flow: 'payments', receivedAt: entry.receivedAt, streamId, destinations: map }], TTL, clock);
    return { eventId: entry.id, destination: destinations[0] ?? filtered[0]!, flow: 'payments', streamId, entry };
  }
  const record = (job: NamedDelivery) => readDeliveryRecord(fx.redis, p, job.eventId, job.destination);
  const attempts = (job: NamedDelivery) => readAttempts(fx.redis, p, job.eventId, job.destination);
  const isOpen = async (job: NamedDelivery): Promise<boolean> => (await fx.redis.zscore(p.openDeliveries, `${job.eventId}:${job.destination}`)) !== null;
  const facts = (attempt: number, extra: { statusCode?: number; response?: string } = {}) => ({ attempt, startedAt: clock, durationMs: 12, ...extra });

  describe('begin', () => {
    it('numbers the attempt, marks the delivery active and hands over the event byte for byte', async () => {
      const job = await dispatched();
      const begun = await state.begin(job);
      expect(begun).toEqual({ kind: 'send', attempt: 1, event: job.entry });
      expect(await record(job)).toEqual({ status: 'active', attempts: 1, at: clock });
    });

    it('refuses a job that names no real delivery, and says why', async () => {
      const job = await dispatched();
      expect(await state.begin({ ...job, eventId: newEventId() })).toEqual({ kind: 'refused', reason: 'no event with this id is stored' });
      expect(await state.begin({ ...job, flow: 'refunds' })).toEqual({ kind: 'refused', reason: 'the event belongs to flow payments, not refunds' });
      expect(await state.begin({ ...job, streamId: '1-0' })).toEqual({ kind: 'refused', reason: `the event is stream entry ${job.streamId}, not 1-0` });
      expect(await record(job)).toMatchObject({ status: 'pending', attempts: 0 });
    });

    it('says a delivery its dispatch has not recorded is not dispatched yet, and a filtered one is settled', async () => {
      const job = await dispatched(['orders'], ['archive']);
      expect(await state.begin({ ...job, destination: 'ledger' })).toEqual({ kind: 'undispatched' });
      expect(await state.begin({ ...job, destination: 'archive' })).toMatchObject({ kind: 'settled', record: { status: 'filtered' } });
    });

    it('sends nothing for a delivery already delivered or dead, whoever made the job', async () => {
      const job = await dispatched(['orders', 'archive']);
      await state.begin(job);
      await state.markDelivered(job, facts(1, { statusCode: 200 }));
      expect(await state.begin(job)).toMatchObject({ kind: 'settled', record: { status: 'delivered', attempts: 1 } });
      const archive = { ...job, destination: 'archive' };
      await state.begin(archive);
      await state.deadLetter(archive, { error: 'HTTP 400', attempt: facts(1, { statusCode: 400 }), retentionMs: TTL });
      expect(await state.begin(archive)).toMatchObject({ kind: 'settled', record: { status: 'dead', error: 'HTTP 400' } });
    });

    it('logs an attempt cut short (found active) as interrupted, and gives the next one the next number', async () => {
      const job = await dispatched();
      await state.begin(job);
      clock += 5_000;
      expect(await state.begin(job)).toMatchObject({ kind: 'send', attempt: 2 });
      expect(await attempts(job)).toEqual([{ attempt: 1, at: clock - 5_000, outcome: 'interrupted', error: expect.stringContaining('cut short') }]);
    });

    it('reads a replayed dead letter from its copy once retention trimmed the stream entry, and says when neither is stored', async () => {
      const job = await dispatched(['orders', 'archive']);
      await state.begin(job);
      await state.deadLetter(job, { error: 'HTTP 500', attempt: facts(1), retentionMs: TTL });
      await fx.redis.xdel(p.stream, job.streamId);
      await state.replay(job);
      expect(await state.begin(job)).toEqual({ kind: 'send', attempt: 2, event: job.entry });
      // The copy is the event's: every delivery of it reads it.
      expect(await state.begin({ ...job, destination: 'archive' })).toEqual({ kind: 'send', attempt: 1, event: job.entry });
      const trimmed = await dispatched();
      await fx.redis.xdel(p.stream, trimmed.streamId);
      expect(await state.begin(trimmed)).toEqual({ kind: 'send', attempt: 1, event: undefined });
    });
  });

  describe('markDelivered', () => {
    it('records a first-attempt delivery in its record alone, and closes it', async () => {
      const job = await dispatched();
      expect(await isOpen(job)).toBe(true);
      await state.begin(job);
      expect((await state.markDelivered(job, facts(1, { statusCode: 204 }))).status).toBe('delivered');
      expect(await record(job)).toEqual({ status: 'delivered', attempts: 1, statusCode: 204, at: clock + 12, durationMs: 12 });
      expect(await fx.redis.exists(p.attempts(job.eventId, job.destination))).toBe(0);
      expect(await isOpen(job)).toBe(false);
    });

    it('adds the delivery to the attempt log of one that failed before', async () => {
      const job = await dispatched();
      await state.begin(job);
      await state.scheduleRetry(job, facts(1, { statusCode: 503 }), 'HTTP 503');
      await state.begin(job);
      await state.markDelivered(job, facts(2, { statusCode: 200 }));
      expect((await attempts(job)).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([[1, 'retry'], [2, 'delivered']]);
    });

    it('writes nothing for a delivery without a record', async () => {
      const job = await dispatched();
      expect((await state.markDelivered({ ...job, destination: 'ledger' }, facts(1))).status).toBe('missing');
      expect((await readEventRecord(fx.redis, p, job.eventId))?.deliveries.map(({ destination }) => destination)).toEqual(['orders']);
    });
  });

  describe('scheduleRetry', () => {
    it('says retrying with the reason, and keeps one bounded excerpt of the answer: the newest', async () => {
      const job = await dispatched();
      await state.begin(job);
      await state.scheduleRetry(job, facts(1, { statusCode: 500, response: `first ${'x'.repeat(2 * RESPONSE_EXCERPT_CHARS)}` }), 'HTTP 500');
      await state.begin(job);
      await state.scheduleRetry(job, facts(2, { statusCode: 502, response: 'bad gateway' }), 'HTTP 502');
      expect(await record(job)).toEqual({ status: 'retrying', attempts: 2, statusCode: 502, at: clock + 12, durationMs: 12, error: 'HTTP 502' });
      const log = await attempts(job);
      expect(log.map(({ response }) => response)).toEqual([undefined, 'bad gateway']);
      expect(log[0]).toMatchObject({ attempt: 1, outcome: 'retry', statusCode: 500, error: 'HTTP 500' });
      expect(await isOpen(job)).toBe(true);
    });

    it('keeps the newest ATTEMPT_LOG_LENGTH attempts', async () => {
      const job = await dispatched();
      for (let attempt = 1; attempt <= ATTEMPT_LOG_LENGTH + 2; attempt++) {
        await state.begin(job);
        await state.scheduleRetry(job, facts(attempt), 'HTTP 503');
      }
      const log = await attempts(job);
      expect(log).toHaveLength(ATTEMPT_LOG_LENGTH);
      expect([log[0]?.attempt, log.at(-1)?.attempt]).toEqual([3, ATTEMPT_LOG_LENGTH + 2]);
      expect(await fx.redis.pttl(p.attempts(job.eventId, job.destination))).toBeGreaterThan(TTL - 5_000);
    });

    it('leaves the record to a newer attempt, or to a settled delivery, when a worker records late', async () => {
      const job = await dispatched();
      await state.begin(job);
      await state.begin(job);
      expect((await state.scheduleRetry(job, facts(1), 'timeout after 5000 ms')).status).toBe('active');
      expect(await record(job)).toMatchObject({ status: 'active', attempts: 2 });
      await state.markDelivered(job, facts(2, { statusCode: 200 }));
      expect((await state.scheduleRetry(job, facts(2), 'HTTP 500')).status).toBe('delivered');
    });
  });

  describe('deadLetter', () => {
    it('says dead, closes the delivery and copies the event for the dead letter’s retention, from the stream', async () => {
      const job = await dispatched();
      await state.begin(job);
      expect((await state.deadLetter(job, { error: 'HTTP 410', attempt: facts(1, { statusCode: 410, response: 'gone' }), retentionMs: 3_600_000 })).status).toBe('dead');
      expect(await record(job)).toMatchObject({ status: 'dead', attempts: 1, statusCode: 410, error: 'HTTP 410' });
      expect(await isOpen(job)).toBe(false);
      const copy = await fx.redis.hgetallBuffer(p.deadLetterEvent(job.eventId));
      expect(Object.keys(copy).sort()).toEqual(['body', 'contentType', 'flow', 'id', 'receivedAt', 'record']);
      expect(copy['body']?.equals(job.entry.body)).toBe(true);
      expect(copy['record']?.toString()).toBe(await fx.redis.hget(p.eventRecords(job.eventId), job.eventId));
      expect(await fx.redis.pttl(p.deadLetterEvent(job.eventId))).toBeGreaterThan(3_500_000);
      expect(encodeEventEntry(job.entry)).toContain(job.eventId);
    });

    it('keeps the attempt number of a delivery BullMQ failed without an attempt, and never kills a delivered one', async () => {
      const job = await dispatched(['orders', 'archive']);
      await state.begin(job);
      await state.scheduleRetry(job, facts(1), 'HTTP 500');
      await state.begin(job);
      expect((await state.deadLetter(job, { error: 'job stalled more than allowable limit', retentionMs: TTL })).status).toBe('dead');
      expect(await record(job)).toMatchObject({ status: 'dead', attempts: 2, error: 'job stalled more than allowable limit' });
      const archive = { ...job, destination: 'archive' };
      await state.begin(archive);
      await state.markDelivered(archive, facts(1));
      expect((await state.deadLetter(archive, { error: 'late', retentionMs: TTL })).status).toBe('delivered');
      expect((await state.deadLetter({ ...job, destination: 'ledger' }, { error: 'x', retentionMs: TTL })).status).toBe('missing');
    });
  });

  describe('replay', () => {
    it('sets a dead letter back to pending with its attempt count and opens it again while its entry is stored', async () => {
      const job = await dispatched();
      await state.begin(job);
      await state.deadLetter(job, { error: 'HTTP 500', attempt: facts(1), retentionMs: TTL });
      clock += 1_000;
      expect(await state.replay(job)).toBe('dead');
      expect(await record(job)).toEqual({ status: 'pending', attempts: 1, at: clock });
      expect(await isOpen(job)).toBe(true);
      expect(await state.replay(job)).toBe('pending');
    });

    it('replays a delivered delivery only when asked to', async () => {
      const job = await dispatched();
      await state.begin(job);
      await state.markDelivered(job, facts(1));
      expect(await state.replay(job)).toBe('delivered');
      expect(await record(job)).toMatchObject({ status: 'delivered' });
      expect(await state.replay(job, { delivered: true })).toBe('delivered');
      expect(await record(job)).toMatchObject({ status: 'pending', attempts: 1 });
    });
  });

  describe('handBack', () => {
    it('sets the active attempt back to pending and logs it as interrupted', async () => {
      const job = await dispatched();
      await state.begin(job);
      expect(await state.handBack(job, 1)).toBe('pending');
      expect(await record(job)).toMatchObject({ status: 'pending', attempts: 1 });
      expect(await attempts(job)).toEqual([expect.objectContaining({ attempt: 1, outcome: 'interrupted' })]);
      expect(await state.handBack(job, 1)).toBe('pending');
      expect(await attempts(job)).toHaveLength(1);
    });
  });

  it('keeps an event record with eight delivered deliveries compact: one field of its bucket, under 50 bytes a delivery past its head', async () => {
    const destinations = Array.from({ length: 8 }, (_, i) => `destination-${i}`);
    const job = await dispatched(destinations);
    for (const destination of destinations) {
      await state.begin({ ...job, destination });
      await state.markDelivered({ ...job, destination }, facts(1, { statusCode: 200 }));
    }
    expect(await fx.redis.hlen(p.eventRecords(job.eventId))).toBe(1);
    expect(await fx.redis.hstrlen(p.eventRecords(job.eventId), job.eventId)).toBeLessThan(64 + 8 * 50);
    expect((await readEventRecord(fx.redis, p, job.eventId))?.deliveries.map(({ status }) => status)).toEqual(destinations.map(() => 'delivered'));
  });

  it('keeps the records of one bucket’s events apart, and a delivery’s error whole but for its ‘;’', async () => {
    const first = await dispatched(['orders']);
    const second = await dispatched(['orders']);
    expect(p.eventRecords(first.eventId)).toBe(p.eventRecords(second.eventId));
    await state.begin(first);
    await state.scheduleRetry(first, facts(1), 'HTTP 500; retry=later|soon');
    expect(await record(first)).toMatchObject({ status: 'retrying', error: 'HTTP 500, retry=later|soon' });
    expect(await record(second)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('keeps a dead letter’s record in its copy once its bucket expired, and every later transition writes it there', async () => {
    const job = await dispatched(['orders', 'archive']);
    await state.begin(job);
    await state.deadLetter(job, { error: 'HTTP 500', attempt: facts(1), retentionMs: TTL * 10 });
    await fx.redis.del(p.eventRecords(job.eventId));
    expect(await readEventRecord(fx.redis, p, job.eventId)).toMatchObject({ flow: 'payments', streamId: job.streamId, deliveries: [{ destination: 'archive', status: 'pending' }, { destination: 'orders', status: 'dead' }] });
    expect(await state.replay(job)).toBe('dead');
    expect(await state.begin(job)).toMatchObject({ kind: 'send', attempt: 2 });
    expect((await state.markDelivered(job, facts(2))).status).toBe('delivered');
    expect(await record(job)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await fx.redis.exists(p.eventRecords(job.eventId))).toBe(0);
  });
});
