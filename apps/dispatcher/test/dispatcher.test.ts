import { afterEach, describe, expect, it } from '@jest/globals';
import { DELIVERY_JOB_NAME } from '@fanout/queues';
import { deliveryState, readEventRecord } from '@fanout/delivery';
import { readNewEvents } from '@fanout/event-log';
import { RECORD_BUCKET_MS } from '@fanout/redis';
import { httpDestination, testFlow } from '@fanout/testkit';
import { Worker } from 'bullmq';
import { dispatchBatch, startDispatcher, type JobQueue, type QueueLookup } from '../src/index.js';
import { counterValue, createHarness, ERROR_LEVEL, EVENT_RECORD_TTL_MS, jobCount, waitFor, type Harness } from './harness.js';

const retry = (attempts: number) => ({ attempts, backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 1_000, jitter: 'none' } }) as const;
const payments = testFlow('payments', [
  httpDestination({ name: 'orders', url: 'http://127.0.0.1:1/orders', retry: retry(3) }),
  httpDestination({ name: 'ledger', url: 'http://127.0.0.1:1/ledger', retry: retry(5) }),
  httpDestination({ name: 'archive', url: 'http://127.0.0.1:1/archive', retry: retry(8) }),
]);
const DESTINATIONS = payments.destinations.map(({ name }) => name);

describe('dispatcher', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('creates exactly one job per (event, destination), with the destination policy and the event id as job id', async () => {
    h = await createHarness([payments]);
    const events = [];
    for (let i = 0; i < 25; i += 1) events.push(await h.append('payments', { type: 'payment.succeeded', n: i }));
    await h.start({ batchSize: 10 });

    await waitFor('every event dispatched', async () => (await h.pendingCount()) === 0 && (await jobCount(h.queues, 'payments', 'archive')) === 25);
    for (const destination of payments.destinations) {
      expect(await jobCount(h.queues, 'payments', destination.name)).toBe(25);
      for (const { eventId, streamId } of events) {
        const job = await h.queues.get('payments', destination.name)?.getJob(eventId);
        expect(job?.id).toBe(eventId);
        expect(job?.name).toBe(DELIVERY_JOB_NAME);
        expect(job?.data).toEqual({ eventId, streamId, flow: 'payments', destination: destination.name, receivedAt: expect.any(Number) });
        expect(job?.opts.attempts).toBe(destination.retry.attempts);
        expect(job?.opts.backoff).toEqual({ type: 'fanout' });
        expect(job?.opts.stackTraceLimit).toBe(0);
      }
      expect(await counterValue(h.metrics.dispatchedJobs, { flow: 'payments', destination: destination.name })).toBe(25);
    }
    const record = await readEventRecord(h.fx.redis, h.partition, events[0]!.eventId);
    expect(record?.deliveries).toEqual(DESTINATIONS.map((destination) => ({ destination, status: 'pending', attempts: 0, at: expect.any(Number) })).sort((a, b) => a.destination.localeCompare(b.destination)));
    expect(await h.pendingCount()).toBe(0);
  });

  it('creates jobs only for destinations whose filter matches and records the others as filtered', async () => {
    const flow = testFlow('billing', [
      httpDestination({ name: 'succeeded', url: 'http://127.0.0.1:1/s', filter: { eventTypes: ['payment.succeeded'], path: ['type'] } }),
      httpDestination({ name: 'invoices', url: 'http://127.0.0.1:1/i', filter: { eventTypes: ['invoice.paid'], path: ['data', 'type'] } }),
      httpDestination({ name: 'everything', url: 'http://127.0.0.1:1/e' }),
    ]);
    h = await createHarness([flow]);
    const succeeded = await h.append('billing', { type: 'payment.succeeded' });
    const invoice = await h.append('billing', { type: 'payment.failed', data: { type: 'invoice.paid' } });
    const notJson = await h.append('billing', Buffer.from('type=payment.succeeded'), 'application/x-www-form-urlencoded');
    await h.start();

    await waitFor('every event dispatched', async () => (await jobCount(h.queues, 'billing', 'everything')) === 3 && (await h.pendingCount()) === 0);
    const expected: Record<string, Record<string, 'pending' | 'filtered'>> = {
      [succeeded.eventId]: { everything: 'pending', invoices: 'filtered', succeeded: 'pending' },
      [invoice.eventId]: { everything: 'pending', invoices: 'pending', succeeded: 'filtered' },
      [notJson.eventId]: { everything: 'pending', invoices: 'filtered', succeeded: 'filtered' },
    };
    for (const [eventId, statuses] of Object.entries(expected)) {
      const record = await readEventRecord(h.fx.redis, h.partition, eventId);
      expect(Object.fromEntries(record?.deliveries.map(({ destination, status }) => [destination, status]) ?? [])).toEqual(statuses);
      for (const [destination, status] of Object.entries(statuses)) {
        const job = await h.queues.get('billing', destination)?.getJob(eventId);
        expect(job === undefined ? 'no job' : 'job').toBe(status === 'pending' ? 'job' : 'no job');
      }
    }
    expect(await jobCount(h.queues, 'billing', 'succeeded')).toBe(1);
    expect(await jobCount(h.queues, 'billing', 'invoices')).toBe(1);
    expect(await counterValue(h.metrics.deliveries, { flow: 'billing', destination: 'succeeded', outcome: 'filtered' })).toBe(2);
    expect(await counterValue(h.metrics.deliveries, { flow: 'billing', destination: 'invoices', outcome: 'filtered' })).toBe(2);
    expect(await counterValue(h.metrics.dispatchedJobs, { flow: 'billing', destination: 'succeeded' })).toBe(1);
  });

  it('claims the entries of a dispatcher killed between adding some jobs and XACK: exactly one job per delivery, none for one already made and removed', async () => {
    h = await createHarness([payments]);
    const first = await h.append('payments', { type: 'a' });
    const second = await h.append('payments', { type: 'b' });
    // The dispatcher that dies: it reads both entries, writes their records, adds their
    // `orders` and `ledger` jobs, and is killed while adding the `archive` ones, before XACK.
    let enteredArchive = (): void => {};
    const addingArchive = new Promise<void>((resolve) => (enteredArchive = resolve));
    const killedInArchive: QueueLookup = {
      get: (flow, destination) => (destination === 'archive' ? { name: 'payments.archive', addBulk: () => (enteredArchive(), new Promise<never>(() => {})) } : h.queues.get(flow, destination)),
    };
    const batch = await readNewEvents(await h.connection(), h.partition, 'killed', 10, 10);
    void dispatchBatch(await h.batchDeps({ queues: killedInArchive }), batch);
    await addingArchive;
    await waitFor('the orders and ledger jobs added', async () => (await jobCount(h.queues, 'payments', 'orders')) === 2 && (await jobCount(h.queues, 'payments', 'ledger')) === 2);
    // Meanwhile a worker delivers the first event to `orders`, and BullMQ removes the completed
    // job (it keeps only the newest ones).
    const orders = h.queues.get('payments', 'orders')!;
    const worker = new Worker(
      orders.name,
      async (job) => {
        if (job.id !== first.eventId) return new Promise(() => {});
        const state = deliveryState({ redis: h.fx.redis, keys: h.keys, attemptLogTtlMs: 600_000, now: Date.now });
        await state.begin({ eventId: first.eventId, destination: 'orders', flow: 'payments', streamId: first.streamId });
        await state.markDelivered({ eventId: first.eventId, destination: 'orders' }, { attempt: 1, startedAt: 1, durationMs: 1, statusCode: 200 });
      },
      { connection: await h.connection(), prefix: h.keys.bullPrefix, concurrency: 2 },
    );
    await waitFor('the first event delivered to orders', async () => (await orders.getJobState(first.eventId)) === 'completed');
    await worker.close(true);
    await (await orders.getJob(first.eventId))?.remove();
    expect(await h.pendingCount()).toBe(2);

    await h.start({ consumer: 'survivor', claimIdleMs: 50, claimEveryMs: 50 });

    await waitFor('the stale entries claimed and acknowledged', async () => (await h.pendingCount()) === 0);
    expect(await jobCount(h.queues, 'payments', 'orders')).toBe(1);
    expect(await orders.getJob(first.eventId)).toBeUndefined();
    for (const destination of ['ledger', 'archive']) {
      expect(await jobCount(h.queues, 'payments', destination)).toBe(2);
      for (const { eventId, streamId } of [first, second]) expect((await h.queues.get('payments', destination)?.getJob(eventId))?.data.streamId).toBe(streamId);
    }
    expect((await readEventRecord(h.fx.redis, h.partition, first.eventId))?.deliveries.find(({ destination }) => destination === 'orders')?.status).toBe('delivered');
    // The delivery made is closed; the four still to make (and the second event's orders) are open.
    expect((await h.fx.redis.zrange(h.partition.openDeliveries, 0, -1)).sort()).toEqual(
      [`${first.eventId}:ledger`, `${first.eventId}:archive`, `${second.eventId}:orders`, `${second.eventId}:ledger`, `${second.eventId}:archive`].sort(),
    );
  });

  it('writes again, with a ttl, the record of an event that expired before it was dispatched', async () => {
    h = await createHarness([payments]);
    const event = await h.append('payments', { type: 'a' });
    await h.fx.redis.hdel(h.partition.eventRecords(event.eventId), event.eventId);
    await h.start();

    await waitFor('the event dispatched', async () => (await h.pendingCount()) === 0 && (await jobCount(h.queues, 'payments', 'archive')) === 1);
    const record = await readEventRecord(h.fx.redis, h.partition, event.eventId);
    expect(record).toMatchObject({ id: event.eventId, flow: 'payments', streamId: event.streamId, receivedAt: expect.any(Number) });
    expect(record?.deliveries.map(({ status }) => status)).toEqual(['pending', 'pending', 'pending']);
    const ttl = await h.fx.redis.pttl(h.partition.eventRecords(event.eventId));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(EVENT_RECORD_TTL_MS + RECORD_BUCKET_MS);
  });

  it('leaves an entry pending while any of its jobs could not be added, and dispatches it once claimed again', async () => {
    const flow = testFlow('shop', [
      httpDestination({ name: 'good', url: 'http://127.0.0.1:1/g' }),
      httpDestination({ name: 'flaky', url: 'http://127.0.0.1:1/f', filter: { eventTypes: ['order.created'], path: ['type'] } }),
    ]);
    h = await createHarness([flow]);
    const created = await h.append('shop', { type: 'order.created' });
    const shipped = await h.append('shop', { type: 'order.shipped' });
    const failingFlaky: QueueLookup = {
      get: (flowName, destination): JobQueue | undefined =>
        destination === 'flaky' ? { name: 'shop.flaky', addBulk: () => Promise.reject(new Error('READONLY You can\'t write against a read only replica.')) } : h.queues.get(flowName, destination),
    };

    const batch = await readNewEvents(await h.connection(), h.partition, 'dispatcher-a', 10, 10);
    const result = await dispatchBatch(await h.batchDeps({ queues: failingFlaky }), batch);

    // The shipped event needs no flaky job, so it is done; the created one is not.
    expect(result).toEqual({ acked: [shipped.streamId], deadLettered: [], unacked: [created.streamId] });
    expect(await h.pendingCount()).toBe(1);
    expect(await h.queues.get('shop', 'good')?.getJob(created.eventId)).toBeDefined();
    expect(await jobCount(h.queues, 'shop', 'flaky')).toBe(0);
    expect(h.logs.find(({ msg }) => msg === 'dispatch.jobs_failed')).toMatchObject({ level: ERROR_LEVEL, queue: 'shop.flaky', eventIds: [created.eventId] });
    expect(await counterValue(h.metrics.dispatchedJobs, { flow: 'shop', destination: 'good' })).toBe(1);

    await h.start({ consumer: 'dispatcher-b', claimIdleMs: 50, claimEveryMs: 50 });
    await waitFor('the failed entry dispatched again', async () => (await h.pendingCount()) === 0);
    expect((await h.queues.get('shop', 'flaky')?.getJob(created.eventId))?.data.eventId).toBe(created.eventId);
    expect(await jobCount(h.queues, 'shop', 'good')).toBe(2);
    expect(await jobCount(h.queues, 'shop', 'flaky')).toBe(1);
  });

  it('recreates the consumer group after Redis lost it, without creating second jobs for what it reads again', async () => {
    h = await createHarness([payments]);
    const before = await h.append('payments', { type: 'a' });
    await h.start();
    await waitFor('the first event dispatched', async () => (await jobCount(h.queues, 'payments', 'orders')) === 1 && (await h.pendingCount()) === 0);

    await h.fx.redis.xgroup('DESTROY', h.partition.stream, 'dispatchers');
    await waitFor('the failure logged', () => h.logs.some(({ msg }) => msg === 'dispatcher.failed'));
    const after = await h.append('payments', { type: 'b' });

    await waitFor('the next event dispatched', async () => (await h.queues.get('payments', 'orders')?.getJob(after.eventId)) !== undefined);
    await waitFor('every entry acknowledged', async () => (await h.pendingCount()) === 0);
    for (const destination of DESTINATIONS) expect(await jobCount(h.queues, 'payments', destination)).toBe(2);
    expect((await h.queues.get('payments', 'orders')?.getJob(before.eventId))?.id).toBe(before.eventId);
  });

  it('creates no job again for a delivery already made when it reads old entries after the group was lost', async () => {
    h = await createHarness([payments]);
    const events = [];
    for (let i = 0; i < 5; i++) events.push(await h.append('payments', { type: 'a', n: i }));
    const dispatcher = await h.start();
    await waitFor('the events dispatched', async () => (await jobCount(h.queues, 'payments', 'orders')) === 5 && (await h.pendingCount()) === 0);
    await dispatcher.stop();
    // Workers delivered every event to orders; BullMQ removed the completed jobs.
    const state = deliveryState({ redis: h.fx.redis, keys: h.keys, attemptLogTtlMs: 600_000, now: Date.now });
    for (const { eventId, streamId } of events) {
      await state.begin({ eventId, destination: 'orders', flow: 'payments', streamId });
      await state.markDelivered({ eventId, destination: 'orders' }, { attempt: 1, startedAt: 1, durationMs: 1 });
      await (await h.queues.get('payments', 'orders')!.getJob(eventId))?.remove();
    }
    // A failover to a replica that lagged, or a restore without the group.
    await h.fx.redis.xgroup('DESTROY', h.partition.stream, 'dispatchers');
    const later = await h.append('payments', { type: 'b' });
    await h.start({ consumer: 'dispatcher-b' });

    await waitFor('every entry read again and acknowledged', async () => (await h.pendingCount()) === 0 && (await h.queues.get('payments', 'orders')?.getJob(later.eventId)) !== undefined);
    expect(await jobCount(h.queues, 'payments', 'orders')).toBe(1);
    for (const destination of ['ledger', 'archive']) expect(await jobCount(h.queues, 'payments', destination)).toBe(6);
    expect(h.logs).toContainEqual(expect.objectContaining({ msg: 'dispatcher.group_created_on_stored_events' }));
  });
});

describe('startDispatcher', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('refuses one connection for both the blocking read and the writes', async () => {
    h = await createHarness([payments]);
    const deps = await h.deps();
    expect(() => startDispatcher({ ...deps, writer: deps.redis })).toThrow(/two connections/);
  });
});

describe('dispatcher.stop', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('returns without waiting for the blocking read to time out', async () => {
    h = await createHarness([payments]);
    const dispatcher = await h.start({ blockMs: 30_000, claimEveryMs: 60_000 });
    const event = await h.append('payments', { type: 'a' });
    await waitFor('the event dispatched', async () => (await h.queues.get('payments', 'orders')?.getJob(event.eventId)) !== undefined && (await h.pendingCount()) === 0);

    // The loop is now blocked in a 30 s XREADGROUP.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([dispatcher.stop().then(() => 'stopped'), new Promise((resolve) => (timer = setTimeout(() => resolve('still blocked'), 5_000)))]);
    clearTimeout(timer);
    expect(outcome).toBe('stopped');
    expect(h.logs.some(({ msg }) => msg === 'dispatcher.stopped')).toBe(true);
  });

  /** Queues whose addBulk waits for `release()`; `entered` resolves once the first batch reached them. */
  function gatedQueues(): { queues: QueueLookup; entered: Promise<void>; release: () => void } {
    let release = (): void => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let enter = (): void => {};
    const entered = new Promise<void>((resolve) => (enter = resolve));
    const queues: QueueLookup = {
      get(flow, destination) {
        const queue = h.queues.get(flow, destination);
        return queue && {
          name: queue.name,
          async addBulk(jobs) {
            enter();
            await gate;
            return queue.addBulk(jobs);
          },
        };
      },
    };
    return { queues, entered, release };
  }

  it('finishes the batch in flight before it resolves', async () => {
    h = await createHarness([payments]);
    const { queues, entered, release } = gatedQueues();
    const dispatcher = await h.start({ queues });
    const event = await h.append('payments', { type: 'a' });
    await entered;

    const order: string[] = [];
    const stopped = dispatcher.stop().then(() => order.push('stopped'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    order.push('released');
    release();
    await stopped;

    expect(order).toEqual(['released', 'stopped']);
    expect(await h.pendingCount()).toBe(0);
    for (const destination of DESTINATIONS) expect((await h.queues.get('payments', destination)?.getJob(event.eventId))?.id).toBe(event.eventId);
  });

  it('also dispatches the batch it read ahead while the one in flight was dispatched, leaving nothing pending', async () => {
    h = await createHarness([payments]);
    const events = [];
    for (const type of ['a', 'b', 'c', 'd']) events.push(await h.append('payments', { type }));
    const { queues, entered, release } = gatedQueues();
    // A full first batch: the next two entries are read while it waits in addBulk.
    const dispatcher = await h.start({ queues, batchSize: 2 });
    await entered;

    const stopped = dispatcher.stop();
    release();
    await stopped;

    expect(await h.pendingCount()).toBe(0);
    for (const { eventId } of events) expect((await h.queues.get('payments', 'orders')?.getJob(eventId))?.id).toBe(eventId);
  });
});
