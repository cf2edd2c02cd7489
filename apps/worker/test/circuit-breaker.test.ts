import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { DestinationStateName } from '@fanout/delivery';
import type { CircuitBreakerPolicy, HttpDestination } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import { httpDestination, testFlow, type ScriptedReply } from '@fanout/testkit';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(30_000);

const COOLDOWN_MS = 1_500;
const WATCH_MS = 100;
const QUEUE = deliveryQueueName('shop', 'hooks');

const breaker = (overrides: Partial<CircuitBreakerPolicy> = {}): CircuitBreakerPolicy => ({ trip: { kind: 'consecutiveFailures', count: 3 }, cooldownMs: COOLDOWN_MS, redrive: false, ...overrides });

/** A destination that retries often and fast, so that without a breaker it would storm its receiver. */
const hooks = (url: string, overrides: Partial<HttpDestination> = {}): HttpDestination =>
  httpDestination({ name: 'hooks', url: `${url}/hooks`, retry: { attempts: 20, backoff: { type: 'fixed', delayMs: 20, maxDelayMs: 1_000, jitter: 'none' } }, concurrency: 2, circuitBreaker: breaker(), ...overrides });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stateChanges = (h: Harness) => h.logLines.filter((line) => line['msg'] === 'destination.state_changed').map((line) => `${String(line['from'])}→${String(line['to'])}`);

async function waitUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return Date.now();
    await sleep(10);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

const waitForState = (h: Harness, state: DestinationStateName): Promise<number> => waitUntil(`hooks ${state}`, async () => (await h.health.read(QUEUE)).state === state);

describe('a circuit breaker', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('opens after consecutive failures: no attempt while open, deliveries wait spending none, one probe after the cooldown closes it', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url)]), gateWatchEveryMs: WATCH_MS });
    let answer: ScriptedReply = { status: 500 };
    h.receiver.script('/hooks', () => answer);
    const destination = h.destination('hooks');
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await h.publish([destination]));

    await waitForState(h, 'open');
    const { until } = await h.health.read(QUEUE);
    // Attempts under way as it opened end; then nothing, however fast the retries would come.
    await sleep(300);
    const atOpen = h.receiver.requestsTo('/hooks').length;
    expect(atOpen).toBeLessThanOrEqual(3 + 2);
    expect(await h.queue(destination).isPaused()).toBe(true);
    await sleep(until! - Date.now() - 200);
    expect(h.receiver.requestsTo('/hooks')).toHaveLength(atOpen);
    const records = await Promise.all(ids.map((id) => h.waitForRecord(id, destination, () => true)));
    expect(records.filter((record) => record.status === 'dead')).toHaveLength(0);
    // Those never tried wait pending; none spent more than the attempts it made before the breaker opened.
    expect(records.filter((record) => record.status === 'pending' && record.attempts === 0).length).toBeGreaterThanOrEqual(20 - atOpen);

    answer = { status: 200 };
    for (const id of ids) expect(await h.waitForRecord(id, destination, isSettled)).toMatchObject({ status: 'delivered' });
    const requests = h.receiver.requestsTo('/hooks');
    const probe = requests[atOpen]!;
    // The probe goes once the cooldown has ended, within one look of the watch (and a begin).
    expect(probe.receivedAt).toBeGreaterThanOrEqual(until!);
    expect(probe.receivedAt - until!).toBeLessThan(WATCH_MS + 400);
    // Every delivery once more after the probe, no storm: 20 deliveries, at most atOpen failed attempts.
    expect(requests.length).toBeLessThanOrEqual(atOpen + 20);
    expect(stateChanges(h)).toEqual(['closed→open', 'open→half-open', 'half-open→closed']);
    expect((await h.health.read(QUEUE)).state).toBe('closed');
    expect(await h.queue(destination).isPaused()).toBe(false);
  });

  it('opens again when its probe fails, and closes on the next probe that succeeds', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url, { concurrency: 1 })]), gateWatchEveryMs: WATCH_MS });
    let answer: ScriptedReply = { status: 503 };
    h.receiver.script('/hooks', () => answer);
    const destination = h.destination('hooks');
    const ids = [await h.publish([destination]), await h.publish([destination])];
    const reopenedAt = await waitUntil('a failed probe', () => stateChanges(h).includes('half-open→open'));
    // The failed probe was one attempt: the three that opened it, and it.
    expect(h.receiver.requestsTo('/hooks')).toHaveLength(4);
    const { until } = await h.health.read(QUEUE);
    expect(until! - reopenedAt).toBeGreaterThan(COOLDOWN_MS - 200);
    answer = { status: 200 };
    for (const id of ids) expect(await h.waitForRecord(id, destination, isSettled)).toMatchObject({ status: 'delivered' });
    expect(stateChanges(h)).toEqual(['closed→open', 'open→half-open', 'half-open→open', 'open→half-open', 'half-open→closed']);
  });

  it('opens on a failure rate, a hanging receiver failing by timeout', async () => {
    const rate = breaker({ trip: { kind: 'failureRate', thresholdPercent: 50, minAttempts: 6, windowMs: 60_000 } });
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url, { circuitBreaker: rate, timeoutMs: 200, concurrency: 3 })]), gateWatchEveryMs: WATCH_MS });
    // Every other request hangs past the timeout: half of them fail.
    h.receiver.script('/hooks', (request) => (request.nth % 2 === 0 ? 'hang' : { status: 200 }));
    const destination = h.destination('hooks');
    for (let i = 0; i < 30; i++) await h.publish([destination]);
    await waitForState(h, 'open');
    const atOpen = h.receiver.requestsTo('/hooks').length;
    expect(atOpen).toBeGreaterThanOrEqual(6);
    await sleep(COOLDOWN_MS - 500);
    // Attempts under way when it opened (at most concurrency) may still have arrived; nothing else.
    expect(h.receiver.requestsTo('/hooks').length).toBeLessThanOrEqual(atOpen + 3);
  });

  it('keeps a fifo line in order while open and after', async () => {
    const seqOf = (body: Buffer): number => (JSON.parse(body.toString()) as { seq: number }).seq;
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url, { ordering: 'fifo', concurrency: 1 })]), gateWatchEveryMs: WATCH_MS });
    let answer: ScriptedReply = { status: 500 };
    h.receiver.script('/hooks', () => answer);
    const destination = h.destination('hooks');
    const ids: string[] = [];
    for (let seq = 1; seq <= 5; seq++) ids.push(await h.publish([destination], Buffer.from(JSON.stringify({ seq }))));
    await waitForState(h, 'open');
    answer = { status: 200 };
    for (const id of ids) expect(await h.waitForRecord(id, destination, isSettled)).toMatchObject({ status: 'delivered' });
    const seqs = h.receiver.requestsTo('/hooks').map((request) => seqOf(request.body));
    // The first is tried until its probe delivers it; then the others, in order.
    expect(seqs).toEqual([1, 1, 1, 1, 2, 3, 4, 5]);
  });

  it('redrives the dead letters of its outage once closed, at the destination rateLimit', async () => {
    const redriving = breaker({ trip: { kind: 'consecutiveFailures', count: 6 }, redrive: true });
    const once = { attempts: 1, backoff: { type: 'fixed' as const, delayMs: 20, maxDelayMs: 1_000, jitter: 'none' as const } };
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url, { circuitBreaker: redriving, retry: once, concurrency: 1, rateLimit: { max: 4, perMs: 1_000 } })]), gateWatchEveryMs: WATCH_MS });
    let answer: ScriptedReply = { status: 500 };
    h.receiver.script('/hooks', () => answer);
    const destination = h.destination('hooks');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await h.publish([destination]));
    await waitForState(h, 'open');
    // One attempt each: the six that opened it are dead letters (BullMQ moves a job to its failed set once its record says so); the seventh waits.
    await waitUntil('six dead letters', async () => (await h.queue(destination).getFailedCount()) === 6);
    const dead = new Set((await h.queue(destination).getFailed()).map((job) => job.id!));
    answer = { status: 200 };
    for (const id of ids) expect(await h.waitForRecord(id, destination, (record) => record.status === 'delivered', 15_000)).toMatchObject({ status: 'delivered' });
    const redriven = h.receiver.requestsTo('/hooks').filter((request) => request.nth > 6 && dead.has(String(request.headers['webhook-id'])));
    expect(redriven).toHaveLength(6);
    // 4 per second, as measured at the receiver: never 5 within a second, and 250 ms apart on average.
    for (let i = 4; i < redriven.length; i++) expect(redriven[i]!.receivedAt - redriven[i - 4]!.receivedAt).toBeGreaterThanOrEqual(950);
    expect(redriven[5]!.receivedAt - redriven[0]!.receivedAt).toBeGreaterThanOrEqual(5 * 250 - 50);
    // A replay on the engine, audited as the admin API's are (GET /replays reads this list).
    const started = h.logLines.find((line) => line['msg'] === 'destination.redrive_started');
    expect(started).toMatchObject({ flow: 'shop', destination: 'hooks', matched: 6 });
    const { items } = await h.replays.list({ limit: 10, offset: 0 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ id: started!['replay'], flow: 'shop', destination: 'hooks', reason: 'circuit breaker closed', requester: 'circuit-breaker', ratePerSecond: 4, matched: 6 });
    expect(items[0]!.filter).toEqual({ from: started!['from'], to: started!['to'] });
    await waitUntil('the redrive finished', async () => (await h.replays.get(started!['replay'] as string))?.status === 'finished');
    expect(await h.replays.get(started!['replay'] as string)).toMatchObject({ queued: 6, skipped: 0 });
  });
});

describe('pause and onGone', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('a paused destination sends nothing and keeps its deliveries; resumed, it delivers them', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url)]), gateWatchEveryMs: WATCH_MS });
    const destination = h.destination('hooks');
    expect(await h.health.pause(QUEUE, 'operator')).toBe('closed');
    const ids = [await h.publish([destination]), await h.publish([destination])];
    await sleep(800);
    expect(h.receiver.requestsTo('/hooks')).toHaveLength(0);
    // The workers keep BullMQ's pause in step: Bull Board shows the queue paused.
    expect(await h.queue(destination).isPaused()).toBe(true);
    for (const id of ids) expect(await h.waitForRecord(id, destination, () => true)).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await h.health.resume(QUEUE)).toBe('paused');
    for (const id of ids) expect(await h.waitForRecord(id, destination, isSettled)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('onGone: pause — a 410 pauses the destination, the delivery waits with its attempt logged, and goes once resumed', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [httpDestination({ name: 'hooks', url: `${url}/hooks`, onGone: 'pause' })]), gateWatchEveryMs: WATCH_MS });
    let answer: ScriptedReply = { status: 410 };
    h.receiver.script('/hooks', () => answer);
    const destination = h.destination('hooks');
    const gone = await h.publish([destination]);
    await waitForState(h, 'paused');
    const later = await h.publish([destination]);
    await sleep(500);
    expect(h.receiver.requestsTo('/hooks')).toHaveLength(1);
    expect(await h.waitForRecord(gone, destination, () => true)).toMatchObject({ status: 'retrying', attempts: 1 });
    expect(await h.queue(destination).getJob(gone).then((job) => job?.attemptsMade)).toBe(0);
    expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'destination.state_changed', from: 'closed', to: 'paused' }));
    answer = { status: 200 };
    await h.health.resume(QUEUE);
    expect(await h.waitForRecord(gone, destination, isSettled)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(await h.waitForRecord(later, destination, isSettled)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('onGone: dead-letter — a 410 dead-letters that delivery, and the destination goes on', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [hooks(url)]), gateWatchEveryMs: WATCH_MS });
    h.receiver.script('/hooks', (request) => (request.nth === 1 ? { status: 410 } : { status: 200 }));
    const destination = h.destination('hooks');
    const gone = await h.publish([destination]);
    expect(await h.waitForRecord(gone, destination, isSettled)).toMatchObject({ status: 'dead', attempts: 1, error: 'HTTP 410' });
    const next = await h.publish([destination]);
    expect(await h.waitForRecord(next, destination, isSettled)).toMatchObject({ status: 'delivered' });
    expect((await h.health.read(QUEUE)).state).toBe('closed');
  });
});
