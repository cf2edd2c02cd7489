import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readEventRecord } from '@fanout/delivery';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { createKeys, createRedisConnection } from '@fanout/redis';
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

  it('answers 503 REDIS_UNAVAILABLE once the command times out when Redis hangs, instead of waiting for it', async () => {
    const blocker = new Redis(server.url);
    try {
      // Redis answers nobody while a script runs, until the busy threshold; raised so it never answers -BUSY here.
      await blocker.config('SET', 'lua-time-limit', '60000');
      blocker.eval('while true do end', 0).catch(() => {});
      await waitUntil(async () => !(await pingRedis(server.port)), 'Redis to stop answering');

      const refused = await send();
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json<ErrorBody>().error.code).toBe('REDIS_UNAVAILABLE');
      expect(ingress.logs.find((line) => line['msg'] === 'event.store_failed')).toMatchObject({
        flow: 'payments',
        err: { message: expect.stringMatching(/timed out/i) },
      });
    } finally {
      blocker.disconnect();
    }
  });
});
