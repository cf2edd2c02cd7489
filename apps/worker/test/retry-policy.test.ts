import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { BackoffPolicy } from '@fanout/core';
import { readAttempts } from '@fanout/delivery';
import { httpDestination, replies, testFlow, type ReceivedRequest } from '@fanout/testkit';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(30_000);

const fixed = (delayMs: number, maxDelayMs: number): BackoffPolicy => ({ type: 'fixed', delayMs, maxDelayMs, jitter: 'none' });

/** Milliseconds from each request to the one `step` requests later, in arrival order. */
function gapsMs(requests: readonly ReceivedRequest[], step = 1): number[] {
  const times = requests.map((request) => request.receivedAt).sort((a, b) => a - b);
  return times.slice(step).map((time, i) => time - (times[i] ?? Number.NaN));
}

describe("a destination's retry policy and rate limit", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      flow: (url) =>
        testFlow('policy', [
          httpDestination({ name: 'throttled', url: `${url}/throttled`, retry: { attempts: 3, backoff: fixed(50, 5_000) } }),
          httpDestination({ name: 'greedy', url: `${url}/greedy`, retry: { attempts: 3, backoff: fixed(50, 400) } }),
          httpDestination({ name: 'slow', url: `${url}/slow`, timeoutMs: 300, retry: { attempts: 2, backoff: fixed(50, 1_000) } }),
          httpDestination({ name: 'limited', url: `${url}/limited`, rateLimit: { max: 2, perMs: 1_000 } }),
        ]),
    });
    h.receiver.script('/throttled', replies.failFirst(1, 429, { 'retry-after': '1' }));
    h.receiver.script('/greedy', replies.failFirst(1, 429, { 'retry-after': '30' }));
    h.receiver.script('/slow', replies.hang());
  });
  afterAll(() => h.close());

  it('waits as long as a 429 Retry-After asks rather than the shorter backoff', async () => {
    const throttled = h.destination('throttled');
    const eventId = await h.publish([throttled]);

    const [gap] = gapsMs(await h.receiver.waitFor('/throttled', 2));
    expect(gap).toBeGreaterThanOrEqual(950);
    await expect(h.waitForRecord(eventId, throttled, isSettled)).resolves.toMatchObject({ status: 'delivered', attempts: 2 });
    expect((await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'throttled'))[0]).toMatchObject({ outcome: 'retry', statusCode: 429, error: 'HTTP 429' });
  });

  it("caps a Retry-After at the policy's maxDelay", async () => {
    const greedy = h.destination('greedy');
    const eventId = await h.publish([greedy]);

    // Retry-After asked for 30 s; the deadline fails the test long before that.
    const [gap] = gapsMs(await h.receiver.waitFor('/greedy', 2, 10_000));
    expect(gap).toBeGreaterThanOrEqual(380);
    await expect(h.waitForRecord(eventId, greedy, isSettled)).resolves.toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('records an attempt that ran out of time as a timeout and retries it', async () => {
    const slow = h.destination('slow');
    const eventId = await h.publish([slow]);

    const record = await h.waitForRecord(eventId, slow, isSettled);
    expect(record).toMatchObject({ status: 'dead', attempts: 2, error: 'timeout after 300 ms' });
    expect(record.statusCode).toBeUndefined();
    const attempts = await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'slow');
    expect(attempts.map(({ outcome, error, statusCode }) => ({ outcome, error, statusCode }))).toEqual([
      { outcome: 'retry', error: 'timeout after 300 ms', statusCode: undefined },
      { outcome: 'dead', error: 'timeout after 300 ms', statusCode: undefined },
    ]);
    expect(attempts.every((attempt) => (attempt.durationMs ?? 0) >= 290)).toBe(true);
    expect(h.receiver.requestsTo('/slow')).toHaveLength(2);
  });

  it('starts no more attempts than the rate limit allows per window', async () => {
    const limited = h.destination('limited');
    const eventIds = await Promise.all(Array.from({ length: 6 }, () => h.publish([limited])));

    await Promise.all(eventIds.map((eventId) => h.waitForRecord(eventId, limited, isSettled)));
    const requests = h.receiver.requestsTo('/limited');
    expect(requests).toHaveLength(6);
    // max 2 per 1 s: any three attempts span at least one window, all six at least two.
    const everyThree = gapsMs(requests, 2);
    expect(everyThree).toHaveLength(4);
    for (const gap of everyThree) expect(gap).toBeGreaterThanOrEqual(900);
    const [span] = gapsMs(requests, 5);
    expect(span).toBeGreaterThanOrEqual(1_900);
  });
});

describe('dead-letter retention', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      flow: (url) => testFlow('short', [httpDestination({ name: 'refusing', url: `${url}/refusing`, deadLetter: { retentionMs: 1_000 } })]),
      deadLetterSweepEveryMs: 200,
    });
    h.receiver.script('/refusing', replies.status(400));
  });
  afterAll(() => h.close());

  it('removes dead letters once their retention passed, by time, without another job failing', async () => {
    const refusing = h.destination('refusing');
    const eventIds = await Promise.all(Array.from({ length: 3 }, () => h.publish([refusing])));
    for (const eventId of eventIds) await h.waitForJobState(refusing, eventId, 'failed');
    expect(await h.queue(refusing).getFailedCount()).toBe(3);

    const deadline = Date.now() + 5_000;
    while ((await h.queue(refusing).getFailedCount()) > 0) {
      if (Date.now() > deadline) throw new Error('the dead letters outlived their retention');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Redis removed them before the sweep's answer (and its log line) is back in the worker.
    const expired = (): boolean => h.logLines.some((line) => line['msg'] === 'dead_letters.expired' && line['queue'] === 'short.refusing');
    while (!expired() && Date.now() < deadline + 2_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'dead_letters.expired', queue: 'short.refusing' }));
  });
});
