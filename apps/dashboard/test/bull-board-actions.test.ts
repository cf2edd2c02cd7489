import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { readAttempts, readDeliveryRecord, type DeliveryStatus } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import { createLogger, createMetrics } from '@fanout/observability';
import type { DeliveryQueue } from '@fanout/queues';
import { httpDestination, startReceiver, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers } from '@fanout/worker';
import { adminRequest, dispatchEvents, startDashboard, type DashboardHarness } from './dashboard-harness.js';

jest.setTimeout(30_000);

const API = '/admin/queues/api/queues';
const fixed = (delayMs: number) => ({ type: 'fixed', delayMs, maxDelayMs: delayMs, jitter: 'none' }) as const;

/**
 * Every action Bull Board offers on a destination's jobs, through Bull Board's own HTTP API
 * (the calls its UI makes), against real workers and a real receiver: each does what its
 * label says, through the delivery's transitions.
 */
describe("Bull Board's actions", () => {
  let harness: DashboardHarness;
  let receiver: ScriptedReceiver;
  let destinations: DestinationRegistry;
  let workers: DeliveryWorkers;
  /** What the receiver answers `orders` now. */
  let answer = 500;
  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.script('/orders', () => ({ status: answer, body: answer === 200 ? '' : `<html>down ${'x'.repeat(8_000)}</html>` }));
    const orders = httpDestination({ name: 'orders', url: `${receiver.url}/orders?token=s3cret`, retry: { attempts: 2, backoff: fixed(50) } });
    const slow = httpDestination({ name: 'slow', url: `${receiver.url}/slow`, retry: { attempts: 3, backoff: fixed(60_000) } });
    // No worker serves `idle`: its jobs stay waiting.
    const idle = httpDestination({ name: 'idle', url: `${receiver.url}/idle` });
    const flow = testFlow('payments', [orders, slow, idle]);
    harness = await startDashboard({ flows: [flow] });
    destinations = createDestinationRegistry();
    workers = startWorkers({
      flows: [testFlow('payments', [orders, slow])],
      connection: harness.bullConnection,
      keys: harness.fx.keys,
      state: harness.state,
      destinations,
      metrics: createMetrics(),
      logger: createLogger({ level: 'silent' }),
      minLockDurationMs: 30_000,
      stalledIntervalMs: 10_000,
    });
    await workers.waitUntilReady();
  });
  afterAll(async () => {
    await workers.stop(1_000);
    await destinations.close();
    await receiver.close();
    await harness.close();
  });

  const queue = (name: string): DeliveryQueue => harness.queues.get('payments', name)!;
  const status = async (eventId: string, destination: string): Promise<DeliveryStatus | undefined> => (await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, destination))?.status;
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`waited 10 s for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const only = (flow = harness.queues.destinations[0]!.flow) => testFlow(flow.name, flow.destinations.filter(({ name }) => name === 'orders'));
  /** Events dead-lettered by `orders` for real: two attempts answered 500. */
  async function deadLettered(count: number): Promise<string[]> {
    answer = 500;
    const ids = await dispatchEvents(harness, only(), count);
    await until('the dead letters', async () => (await Promise.all(ids.map((id) => queue('orders').getJobState(id)))).every((state) => state === 'failed'));
    return ids;
  }
  const sentTo = (path: string, eventId: string): number => receiver.requestsTo(path).filter((request) => request.headers['webhook-id'] === eventId).length;

  it('Retry on a failed job sends it again as the next attempt, and its record then says delivered', async () => {
    const [eventId = ''] = await deadLettered(1);
    expect(await status(eventId, 'orders')).toBe('dead');
    answer = 200;

    const retried = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/retry`, { method: 'PUT' });
    expect(retried.status).toBe(204);
    await until('the delivery', async () => (await status(eventId, 'orders')) === 'delivered');
    expect(sentTo('/orders', eventId)).toBe(3);
    expect((await readAttempts(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders')).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([[1, 'retry'], [2, 'dead'], [3, 'delivered']]);
    const event = await adminRequest(`${harness.url}/events/${eventId}`);
    expect(event.body).toMatchObject({ deliveries: expect.arrayContaining([expect.objectContaining({ destination: 'orders', status: 'delivered', attempts: 3 })]) });
  });

  it('Retry on a failed job that fails again spends a new attempt, numbered next, and dead-letters it again', async () => {
    const [eventId = ''] = await deadLettered(1);
    const retried = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/retry`, { method: 'PUT' });
    expect(retried.status).toBe(204);
    await until('two more attempts', async () => sentTo('/orders', eventId) === 4 && (await queue('orders').getJobState(eventId)) === 'failed');
    expect((await readAttempts(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders')).map(({ attempt }) => attempt)).toEqual([1, 2, 3, 4]);
    expect(await status(eventId, 'orders')).toBe('dead');
  });

  it('Retry all on the failed tab replays every dead letter', async () => {
    const ids = await deadLettered(3);
    const failed = await queue('orders').getFailedCount();
    answer = 200;
    const retried = await adminRequest(`${harness.url}${API}/payments.orders/retry/failed`, { method: 'PUT' });
    expect(retried).toMatchObject({ status: 200, body: { retried: failed } });
    expect(failed).toBeGreaterThanOrEqual(3);
    await until('every delivery', async () => (await Promise.all(ids.map((id) => status(id, 'orders')))).every((found) => found === 'delivered'));
    for (const id of ids) expect(sentTo('/orders', id)).toBe(3);
  });

  it('Retry on a completed job sends it again (Bull Board allows it), numbered next', async () => {
    answer = 200;
    const [eventId = ''] = await dispatchEvents(harness, only(), 1);
    await until('the delivery', async () => (await queue('orders').getJobState(eventId)) === 'completed');
    const retried = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/retry`, { method: 'PUT' });
    expect(retried.status).toBe(204);
    await until('the second delivery', async () => sentTo('/orders', eventId) === 2 && (await queue('orders').getJobState(eventId)) === 'completed');
    expect(await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders')).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('Promote on a delayed job attempts it now', async () => {
    receiver.script('/slow', (request) => (request.nth === 1 ? { status: 503 } : { status: 200 }));
    const slowFlow = testFlow('payments', harness.queues.destinations.map(({ destination }) => destination).filter(({ name }) => name === 'slow'));
    const [eventId = ''] = await dispatchEvents(harness, slowFlow, 1);
    await until('the retry scheduled a minute later', async () => (await queue('slow').getJobState(eventId)) === 'delayed');
    expect(await status(eventId, 'slow')).toBe('retrying');

    const promoted = await adminRequest(`${harness.url}${API}/payments.slow/${eventId}/promote`, { method: 'PUT' });
    expect(promoted.status).toBe(204);
    await until('the second attempt', async () => (await status(eventId, 'slow')) === 'delivered');
    expect(sentTo('/slow', eventId)).toBe(2);
  });

  it('Promote all on the delayed tab attempts every retrying delivery now, and GET /events/:id says delivered', async () => {
    const tries = new Map<unknown, number>();
    receiver.script('/slow', ({ headers }) => {
      const tried = (tries.get(headers['webhook-id']) ?? 0) + 1;
      tries.set(headers['webhook-id'], tried);
      return { status: tried === 1 ? 503 : 200 };
    });
    const slowFlow = testFlow('payments', harness.queues.destinations.map(({ destination }) => destination).filter(({ name }) => name === 'slow'));
    const ids = await dispatchEvents(harness, slowFlow, 2);
    await until('both retries scheduled a minute later', async () => (await Promise.all(ids.map((id) => queue('slow').getJobState(id)))).every((state) => state === 'delayed'));

    const promoted = await adminRequest(`${harness.url}${API}/payments.slow/promote`, { method: 'PUT' });
    expect(promoted.status).toBe(200);
    await until('both second attempts', async () => (await Promise.all(ids.map((id) => status(id, 'slow')))).every((found) => found === 'delivered'));
    for (const id of ids) {
      expect(sentTo('/slow', id)).toBe(2);
      const event = await adminRequest(`${harness.url}/events/${id}`);
      expect(event.body).toMatchObject({ deliveries: [expect.objectContaining({ destination: 'slow', status: 'delivered', attempts: 2 })] });
    }
  });

  it('Clean on a dead letter removes it from the dead letters; the record still says dead', async () => {
    const [eventId = ''] = await deadLettered(1);
    const cleaned = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/clean`, { method: 'PUT' });
    expect(cleaned.status).toBe(204);
    expect(await queue('orders').getJob(eventId)).toBeUndefined();
    const listed = (await adminRequest(`${harness.url}/flows/payments/destinations/orders/dead-letters?limit=500`)).body as { items: { eventId: string }[] };
    expect(listed.items.map((item) => item.eventId)).not.toContain(eventId);
    expect(await status(eventId, 'orders')).toBe('dead');
  });

  it('Clean all on the completed and failed tabs removes only finished jobs; their records still say delivered and dead', async () => {
    answer = 200;
    const [delivered = ''] = await dispatchEvents(harness, only(), 1);
    await until('the delivery', async () => (await queue('orders').getJobState(delivered)) === 'completed');
    const [dead = ''] = await deadLettered(1);
    // Bull Board's Clean all takes jobs finished more than 5 s ago.
    await new Promise((resolve) => setTimeout(resolve, 5_100));

    const cleaned = [
      await adminRequest(`${harness.url}${API}/payments.orders/clean/failed`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.orders/clean/completed`, { method: 'PUT' }),
    ];
    expect(cleaned.map(({ status: code }) => code)).toEqual([200, 200]);
    expect([await queue('orders').getJob(delivered), await queue('orders').getJob(dead)]).toEqual([undefined, undefined]);
    const listed = (await adminRequest(`${harness.url}/flows/payments/destinations/orders/dead-letters?limit=500`)).body as { items: { eventId: string }[] };
    expect(listed.items.map((item) => item.eventId)).not.toContain(dead);
    expect((await adminRequest(`${harness.url}/events/${delivered}`)).body).toMatchObject({ deliveries: [expect.objectContaining({ destination: 'orders', status: 'delivered', attempts: 1 })] });
    expect((await adminRequest(`${harness.url}/events/${dead}`)).body).toMatchObject({ deliveries: [expect.objectContaining({ destination: 'orders', status: 'dead', attempts: 2 })] });
    expect([sentTo('/orders', delivered), sentTo('/orders', dead)]).toEqual([1, 2]);
  });

  it('Duplicate never sends a delivered delivery again: refused while its job is kept, settled without a request once it was cleaned', async () => {
    answer = 200;
    const [eventId = ''] = await dispatchEvents(harness, only(), 1);
    await until('the delivery', async () => (await queue('orders').getJobState(eventId)) === 'completed');
    // What Bull Board's Duplicate posts: the job's name, data and options as its page shows them.
    const { job } = (await adminRequest(`${harness.url}${API}/payments.orders/${eventId}`)).body as { job: { name: string; data: unknown; opts: unknown } };
    const duplicate = () => adminRequest(`${harness.url}${API}/payments.orders/add`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: job.name, data: job.data, options: job.opts }) });

    const refused = await duplicate();
    expect(refused).toMatchObject({ status: 409, body: { message: `the delivery of event ${eventId} already has its job (completed): a second would be a copy; Retry sends a finished delivery again` } });

    expect((await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/clean`, { method: 'PUT' })).status).toBe(204);
    const added = await duplicate();
    expect(added.status).toBe(200);
    await until('the duplicate settled', async () => (await queue('orders').getJobState(eventId)) === 'completed');
    expect(sentTo('/orders', eventId)).toBe(1);
    expect(await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('refuses what would lose queued deliveries: Clean of a waiting job or tab, Empty, Obliterate', async () => {
    const idleFlow = testFlow('payments', harness.queues.destinations.map(({ destination }) => destination).filter(({ name }) => name === 'idle'));
    const [eventId = ''] = await dispatchEvents(harness, idleFlow, 1);
    const refusals = [
      await adminRequest(`${harness.url}${API}/payments.idle/${eventId}/clean`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.idle/clean/wait`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.idle/empty`, { method: 'PUT' }),
    ];
    expect(refusals.map(({ status: code }) => code)).toEqual([409, 409, 409]);
    expect(refusals.map(({ body }) => (body as { message: string }).message)).toEqual([
      expect.stringContaining('would lose its delivery'),
      expect.stringContaining('would lose their deliveries'),
      expect.stringContaining('would lose its queued deliveries'),
    ]);
    await queue('idle').pause();
    const obliterate = await adminRequest(`${harness.url}${API}/payments.idle/obliterate`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    await queue('idle').resume();
    expect(obliterate.status).toBe(409);
    expect(await queue('idle').getJobState(eventId)).toBe('waiting');
  });

  it('refuses Edit data: a delivery job points at its stored event', async () => {
    const idleFlow = testFlow('payments', harness.queues.destinations.map(({ destination }) => destination).filter(({ name }) => name === 'idle'));
    const [eventId = ''] = await dispatchEvents(harness, idleFlow, 1);
    const before = (await queue('idle').getJob(eventId))?.data;
    const edited = await adminRequest(`${harness.url}${API}/payments.idle/${eventId}/update-data`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jobData: { ...before, eventId: 'forged-id-1' } }) });
    expect(edited.status).toBe(400);
    expect(edited.body).toMatchObject({ message: expect.stringContaining('cannot be edited') });
    expect((await queue('idle').getJob(eventId))?.data).toEqual(before);
  });

  it('sends a job added by hand only if it names a real delivery, under that delivery’s own job id', async () => {
    answer = 200;
    const forged = newEventId();
    const added = await adminRequest(`${harness.url}${API}/payments.orders/add`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'deliver', data: { eventId: forged, streamId: '1-0', flow: 'payments', destination: 'orders', receivedAt: 1 }, options: { jobId: 'anything', attempts: 99 } }),
    });
    expect(added.status).toBe(200);
    expect((added.body as { job: { id: string } }).job.id).toBe(forged);
    await until('the forged job refused', async () => (await queue('orders').getJobState(forged)) === 'failed');
    expect((await queue('orders').getJob(forged))?.failedReason).toBe('no event with this id is stored');
    expect(sentTo('/orders', forged)).toBe(0);
  });

  it('shows each job as a delivery: where it goes (secrets masked), its record, its payload, its failure and its attempts', async () => {
    const [eventId = ''] = await deadLettered(1);
    const shown = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}`);
    expect(shown.status).toBe(200);
    const { job } = shown.body as { job: { data: Record<string, unknown>; stacktrace: string[]; failedReason: string } };
    expect(job.data).toMatchObject({
      eventId,
      flow: 'payments',
      destination: 'orders',
      target: { type: 'http', url: `${receiver.url}/orders?token=***` },
      delivery: { status: 'dead', attempts: 2, lastError: 'HTTP 500' },
      payload: { contentType: 'application/json', bytes: expect.any(Number), preview: expect.stringContaining('"type":"t"'), truncated: false },
    });
    expect(job.failedReason).toBe('HTTP 500');
    expect(job.stacktrace).toHaveLength(1);
    expect(job.stacktrace[0]).toMatch(/^attempt 2 · \d{4}-.* · dead · HTTP 500 · \d+ ms\n<html>down x+/);
    // One bounded excerpt of the 8 KB error page, not the page.
    expect(job.stacktrace[0]!.length).toBeLessThan(500);
    expect(JSON.stringify(shown.body)).not.toContain('s3cret');

    const logs = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/logs`);
    expect(logs.body).toEqual([expect.stringMatching(/^attempt 1 · .* · retry · HTTP 500 · \d+ ms$/), expect.stringMatching(/^attempt 2 · .* · dead · HTTP 500 · \d+ ms · <html>down/)]);
  });
});

describe('a read-only Bull Board (FANOUT_DASHBOARD_READONLY)', () => {
  let harness: DashboardHarness;
  beforeAll(async () => {
    harness = await startDashboard({ flows: [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/orders' })])], readOnly: true });
  });
  afterAll(() => harness.close());

  it('shows the jobs and refuses every action', async () => {
    const [eventId = ''] = await dispatchEvents(harness, harness.queues.destinations[0]!.flow, 1);
    expect((await adminRequest(`${harness.url}${API}/payments.orders/${eventId}`)).status).toBe(200);
    const actions = [
      await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/promote`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.orders/${eventId}/clean`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.orders/retry/failed`, { method: 'PUT' }),
      await adminRequest(`${harness.url}${API}/payments.orders/pause`, { method: 'PUT' }),
    ];
    expect(actions.map(({ status }) => status)).toEqual([405, 405, 405, 405]);
    expect(await harness.queues.get('payments', 'orders')!.getJobState(eventId)).toBe('waiting');
  });
});

describe('Bull Board beside a destination whose URL came from ${env:…}', () => {
  let harness: DashboardHarness;
  const secretPath = 'T0SECRET/B0SECRET/slack-hook-secret';
  beforeAll(async () => {
    const url = `http://127.0.0.1:9/services/${secretPath}`;
    const flow = { ...testFlow('payments', [httpDestination({ name: 'orders', url })]), envTemplates: new Map([[url, 'http://127.0.0.1:9/services/${env:SLACK_PATH}']]) };
    harness = await startDashboard({ flows: [flow] });
  });
  afterAll(() => harness.close());

  it('shows the target as written, never the value from the environment', async () => {
    const [eventId = ''] = await dispatchEvents(harness, harness.queues.destinations[0]!.flow, 1);
    const shown = await adminRequest(`${harness.url}${API}/payments.orders/${eventId}`);
    expect((shown.body as { job: { data: { target: unknown } } }).job.data.target).toEqual({ type: 'http', url: 'http://127.0.0.1:9/services/${env:SLACK_PATH}' });
    expect(JSON.stringify(shown.body)).not.toContain('SECRET');
    const listed = await adminRequest(`${harness.url}${API}?activeQueue=payments.orders&status=waiting&page=1&jobsPerPage=10`);
    expect(listed.status).toBe(200);
    expect(JSON.stringify(listed.body)).toContain('${env:SLACK_PATH}');
    expect(JSON.stringify(listed.body)).not.toContain('SECRET');
  });
});
