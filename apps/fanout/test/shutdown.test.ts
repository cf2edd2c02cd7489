import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { replies, startReceiver, type ScriptedReceiver } from '@fanout/testkit';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

const TOKEN = 'shutdown-token';

// A Redis of this file's own, killed while the process runs.
describe('shutdown while Redis is unreachable', () => {
  let dir: string;
  let redis: RedisServer;
  let receiver: ScriptedReceiver;
  let fanout: FanoutProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-shutdown-'));
    redis = await startRedisServer({ dir: join(dir, 'redis') });
    receiver = await startReceiver();
    receiver.script('/slow', replies.hang());
    const flowFile = join(dir, 'flow.yaml');
    await writeFile(flowFile, `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: shop }\nspec:\n  destinations:\n    - { name: slow, type: http, url: "${receiver.url}/slow", timeout: 1m }\n`);
    const config = readConfig({ REDIS_URL: redis.url, PORT: '0', FANOUT_FLOWS: flowFile, FANOUT_SHUTDOWN_GRACE: '1s', FANOUT_ADMIN_TOKEN: TOKEN });
    fanout = await startFanoutProcess({ config, logger: createLogger({ level: 'silent' }), env: {} });
  });
  afterAll(async () => {
    await receiver.close();
    await redis.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the admin API 503 at once while Redis is gone, and resolves with a delivery in flight instead of waiting for Redis', async () => {
    const base = `http://127.0.0.1:${fanout.port}`;
    const accepted = await fetch(`${base}/webhooks/shop`, { method: 'POST', body: '{}' });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await receiver.waitFor('/slow', 1);

    expect(await (await fetch(`${base}/readyz`)).json()).toEqual({ status: 'ready', checks: { redis: 'ok', memory: 'ok', draining: 'ok', flows: 'ok' } });
    await redis.kill();
    const unready = Date.now() + 5_000;
    while ((await fetch(`${base}/readyz`)).status !== 503) {
      if (Date.now() > unready) throw new Error('/readyz still said ready 5 s after Redis died');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await (await fetch(`${base}/readyz`)).json()).toMatchObject({ status: 'not ready', checks: { redis: 'Redis does not answer' } });
    const askedAt = Date.now();
    const answer = await fetch(`${base}/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect([answer.status, ((await answer.json()) as { error: { code: string } }).error.code]).toEqual([503, 'REDIS_UNAVAILABLE']);
    expect(Date.now() - askedAt).toBeLessThan(3_000);

    // Jest's timeout is the bound: every step waiting on Redis would otherwise wait forever.
    await expect(fanout.shutdown()).resolves.toBeUndefined();
  }, 30_000);
});
