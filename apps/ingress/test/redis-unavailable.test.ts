import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readEventRecord } from '@fanout/delivery';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { createKeys, createRedisConnection, watchRedis } from '@fanout/redis';
import { pingRedis, startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, testFlow } from '@fanout/testkit';
import { Redis } from 'ioredis';
import { post, startIngress, waitUntil, type TestIngress } from './ingress-server.js';

const flows = [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })])];
const keys = createKeys('ingress-test');

interface ErrorBody {
  error: { code: string; message: string };
}

// A Redis of this file's own, to kill and hang without disturbing the shared test Redis.
describe('POST /webhooks/:flow while Redis is unavailable', () => {
  let dir: string;
  let server: RedisServer;
  let redis: Redis;
  let ingress: TestIngress;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-ingress-redis-'));
    server = await startRedisServer({ dir });
    redis = createRedisConnection(server.url, { purpose: 'request', name: 'ingress', scripts: [EVENT_LOG_SCRIPTS] });
    await redis.connect();
    ingress = await startIngress({ redis, keys, flows });
  });
  afterEach(async () => {
    await ingress.close();
    redis.disconnect();
    await server.kill();
    await rm(dir, { recursive: true, force: true });
  });

  const send = (): ReturnType<typeof post> => post(ingress.port, '/webhooks/payments', { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{"type":"x"}')] });

  it('answers 503 REDIS_UNAVAILABLE with Retry-After while Redis is down, and 202 again once it is back', async () => {
    expect((await send()).status).toBe(202);

    await server.kill();
    const refused = await send();
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json<ErrorBody>().error.code).toBe('REDIS_UNAVAILABLE');

    await server.restart();
    await waitUntil(() => redis.status === 'ready', 'the request connection to reconnect');
    const accepted = await send();
    expect(accepted.status).toBe(202);
    const inspector = new Redis(server.url);
    try {
      expect(await readEventRecord(inspector, keys.partitions[0]!, accepted.json<{ id: string }>().id)).toMatchObject({ flow: 'payments' });
    } finally {
      inspector.disconnect();
    }
  });

  it('answers 503 REDIS_TIMEOUT once the command times out when Redis hangs, saying the event may be stored, instead of waiting for it', async () => {
    const blocker = new Redis(server.url);
    try {
      // Redis answers nobody while a script runs, until the busy threshold; raised so it never answers -BUSY here.
      await blocker.config('SET', 'lua-time-limit', '60000');
      blocker.eval('while true do end', 0).catch(() => {});
      await waitUntil(async () => !(await pingRedis(server.port)), 'Redis to stop answering');

      const refused = await send();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json<ErrorBody>().error).toEqual({ code: 'REDIS_TIMEOUT', message: expect.stringContaining('may or may not be stored') });
      expect(ingress.logs.find((line) => line['msg'] === 'event.store_failed')).toMatchObject({
        flow: 'payments',
        err: { message: expect.stringMatching(/timed out/i) },
      });
    } finally {
      blocker.disconnect();
    }
  });

  it('answers 503 REDIS_MEMORY_FULL when Redis refuses the write at its maxmemory, and 202 once memory is raised', async () => {
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      const refused = await send();
      expect([refused.status, refused.headers['retry-after']]).toEqual([503, '5']);
      expect(refused.json<ErrorBody>().error).toEqual({ code: 'REDIS_MEMORY_FULL', message: expect.stringContaining('was not stored') });
      await admin.config('SET', 'maxmemory', '0');
      expect((await send()).status).toBe(202);
    } finally {
      admin.disconnect();
    }
  });

  it('refuses new events before Redis is full, from its memory limit, without writing', async () => {
    const admin = new Redis(server.url);
    const health = watchRedis(redis, 50);
    const near = await startIngress({ redis, keys, flows, memory: { share: () => health.memoryShare(), limit: 0.9 } });
    try {
      const used = Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1]);
      // Redis at 95% of its maxmemory: still taking writes, but too close for new events.
      await admin.config('SET', 'maxmemory', String(Math.ceil(used / 0.95)));
      await waitUntil(() => (health.memoryShare() ?? 0) > 0.9, 'the probe to see the new maxmemory');
      const length = await admin.xlen(keys.partitions[0]!.stream);
      const refused = await post(near.port, '/webhooks/payments', { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{}')] });
      expect(refused.status).toBe(503);
      expect(refused.json<ErrorBody>().error).toEqual({ code: 'REDIS_MEMORY_FULL', message: expect.stringMatching(/^Redis uses 9\d% of its maxmemory; new events are refused from 90% \(FANOUT_INGEST_MEMORY_LIMIT\)/) });
      expect(await admin.xlen(keys.partitions[0]!.stream)).toBe(length);
      await admin.config('SET', 'maxmemory', '0');
      await waitUntil(() => health.memoryShare() === undefined, 'the probe to see no maxmemory');
      expect((await post(near.port, '/webhooks/payments', { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from('{}')] })).status).toBe(202);
    } finally {
      health.stop();
      await near.close();
      admin.disconnect();
    }
  });
});
