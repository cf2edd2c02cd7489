import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { readAttempts } from '@fanout/delivery';
import { createKeys } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, replies, testFlow } from '@fanout/testkit';
import { settlesWithin } from '../src/settles-within.js';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(30_000);

describe('stop', () => {
  let h: Harness;
  let redisServer: RedisServer | undefined;
  let redisDir: string | undefined;
  afterEach(async () => {
    await h.close();
    await redisServer?.kill();
    if (redisDir) await rm(redisDir, { recursive: true, force: true });
    redisServer = undefined;
    redisDir = undefined;
  });

  // First in the file: stopping against a dead Redis leaves ioredis's 2 s socket-destroy
  // timers behind (it arms one even for a socket that is already closed); they expire while
  // the tests after this one run instead of holding Jest open after the last.
  it('returns when Redis is unreachable while an attempt hangs', async () => {
    redisDir = await mkdtemp(join(tmpdir(), 'fanout-worker-stop-'));
    const server = await startRedisServer({ dir: redisDir, appendOnly: false });
    redisServer = server;
    h = await startHarness({
      flow: (url) => testFlow('slow', [httpDestination({ name: 'sleepy', url: `${url}/sleepy`, timeoutMs: 60_000 })]),
      redis: { url: server.url, keys: createKeys('unreachable'), cleanup: async () => {} },
    });
    h.receiver.script('/sleepy', replies.hang());
    await h.publish([h.destination('sleepy')]);
    await h.receiver.waitFor('/sleepy', 1);
    await server.kill();

    expect(await settlesWithin(h.workers.stop(200), 10_000)).toBe(true);
  });

  it('returns while an attempt hangs and hands its job back for another worker, no retry spent', async () => {
    h = await startHarness({ flow: (url) => testFlow('slow', [httpDestination({ name: 'sleepy', url: `${url}/sleepy`, timeoutMs: 60_000 })]) });
    h.receiver.script('/sleepy', replies.hang());
    const sleepy = h.destination('sleepy');
    const eventId = await h.publish([sleepy]);
    await h.receiver.waitFor('/sleepy', 1);

    expect(await settlesWithin(h.workers.stop(200), 10_000)).toBe(true);

    expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'delivery.interrupted', eventId, attempt: 1 }));
    expect((await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'sleepy')).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([[1, 'interrupted']]);
    await expect(h.waitForRecord(eventId, sleepy, (record) => record.status === 'pending')).resolves.toMatchObject({ attempts: 1 });
    const job = await h.queue(sleepy).getJob(eventId);
    expect(['waiting', 'delayed']).toContain(await job?.getState());
    expect(job?.attemptsMade).toBe(0);

    h.receiver.script('/sleepy', replies.ok());
    await h.startMoreWorkers();
    // The cut-short attempt kept its number 1: the one that delivered is number 2.
    await expect(h.waitForRecord(eventId, sleepy, isSettled)).resolves.toMatchObject({ status: 'delivered', attempts: 2 });
    expect((await readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'sleepy')).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([[1, 'interrupted'], [2, 'delivered']]);
    expect(h.receiver.requestsTo('/sleepy').map((request) => request.headers['webhook-id'])).toEqual([eventId, eventId]);
  });
});

describe('isolation between destinations', () => {
  let h: Harness;
  afterEach(() => h.close());

  it("delivers to a healthy destination while another's attempts hang", async () => {
    h = await startHarness({
      flow: (url) =>
        testFlow('fan', [
          httpDestination({ name: 'stuck', url: `${url}/stuck`, concurrency: 2, timeoutMs: 5_000 }),
          httpDestination({ name: 'healthy', url: `${url}/healthy` }),
        ]),
    });
    h.receiver.script('/stuck', replies.hang());
    const stuck = h.destination('stuck');
    const healthy = h.destination('healthy');

    const eventIds: string[] = [];
    for (let i = 0; i < 10; i++) eventIds.push(await h.publish([stuck, healthy]));

    await h.receiver.waitFor('/stuck', 2);
    const records = await Promise.all(eventIds.map((eventId) => h.waitForRecord(eventId, healthy, isSettled)));
    expect(records.every((record) => record.status === 'delivered')).toBe(true);
    // The stuck destination's first two attempts are still in flight: none has ended, none more started.
    expect(h.receiver.requestsTo('/stuck')).toHaveLength(2);
    const stuckAttempts = await Promise.all(eventIds.map((eventId) => readAttempts(h.redis, h.keys.partitionOf(eventId), eventId, 'stuck')));
    expect(stuckAttempts.flat()).toEqual([]);
  });
});
