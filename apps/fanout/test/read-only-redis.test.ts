import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { startReceiver, type ScriptedReceiver } from '@fanout/testkit';
import { Redis } from 'ioredis';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

interface Readiness {
  status: string;
  checks: Record<string, string>;
}

// The process's Redis turned into a replica of another test Redis (what a failover that left
// REDIS_URL on the old primary looks like), then promoted back.
describe('a Redis that answers but refuses writes', () => {
  let dir: string;
  let primary: RedisServer;
  let redis: RedisServer;
  let admin: Redis;
  let receiver: ScriptedReceiver;
  let fanout: FanoutProcess;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-read-only-'));
    [primary, redis] = await Promise.all([startRedisServer({ dir: join(dir, 'primary') }), startRedisServer({ dir: join(dir, 'redis') })]);
    admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    receiver = await startReceiver();
    const flowFile = join(dir, 'flow.yaml');
    await writeFile(flowFile, `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: shop }\nspec:\n  destinations:\n    - { name: orders, type: http, url: "${receiver.url}/orders" }\n`);
    const config = readConfig({ REDIS_URL: redis.url, PORT: '0', FANOUT_FLOWS: flowFile, FANOUT_SHUTDOWN_GRACE: '1s' });
    fanout = await startFanoutProcess({ config, logger: createLogger({ level: 'silent' }), env: {} });
    base = `http://127.0.0.1:${fanout.port}`;
  });
  afterAll(async () => {
    await fanout.shutdown();
    admin.disconnect();
    await receiver.close();
    await Promise.all([redis.stop(), primary.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  const readiness = async (): Promise<{ code: number; body: Readiness }> => {
    const answer = await fetch(`${base}/readyz`);
    return { code: answer.status, body: (await answer.json()) as Readiness };
  };
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`waited 5 s for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const send = (): Promise<Response> => fetch(`${base}/webhooks/shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"t"}' });

  it('says not ready while Redis is a replica, naming read-only, and the ingress answers 503 REDIS_READONLY; both recover by themselves once it is a primary again', async () => {
    expect(await readiness()).toEqual({ code: 200, body: { status: 'ready', checks: expect.objectContaining({ redis: 'ok' }) } });

    await admin.replicaof('127.0.0.1', String(primary.port));
    await until('/readyz to say not ready', async () => (await readiness()).code === 503);
    expect((await readiness()).body).toEqual({ status: 'not ready', checks: expect.objectContaining({ redis: `Redis is a read-only replica of 127.0.0.1:${primary.port}: it refuses writes (READONLY)` }) });
    const refused = await send();
    expect([refused.status, refused.headers.get('retry-after'), await refused.json()]).toEqual([503, '1', { error: { code: 'REDIS_READONLY', message: 'Redis is a read-only replica: the event was not stored; retry later' } }]);

    // A replica that takes writes is no better: its primary's data replaces them at the next resync.
    await admin.config('SET', 'replica-read-only', 'no');
    await until('/readyz to name a writable replica', async () => (await readiness()).body.checks.redis?.startsWith('Redis is a writable replica') ?? false);
    expect((await readiness()).code).toBe(503);

    await admin.replicaof('NO', 'ONE');
    await until('/readyz to say ready', async () => (await readiness()).code === 200);
    const accepted = await send();
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await until('the delivery', async () => receiver.requestsTo('/orders').some((request) => request.headers['webhook-id'] === id));
  }, 30_000);
});
