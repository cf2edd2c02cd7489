import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Flow } from '@fanout/flows';
import { readEventRecord } from '@fanout/delivery';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { createKeys, createRedisConnection } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, testFlow } from '@fanout/testkit';
import { Redis } from 'ioredis';
import { post, startIngress, waitUntil, type Reply, type TestIngress } from './ingress-server.js';

const plain = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })]);
const keyed: Flow = { ...plain, name: 'refunds', source: { ...plain.source, idempotencyKey: { headers: ['Idempotency-Key'], ttlMs: 60_000 } } };
const keys = createKeys('replication-test');

interface ErrorBody {
  error: { code: string; message: string };
}

/** Calls per command since the last CONFIG RESETSTAT, those a script ran included, leaving out the inspection's and the replica's own. */
async function commandCalls(redis: Redis): Promise<Record<string, number>> {
  const calls: Record<string, number> = {};
  for (const [, command, count] of (await redis.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!/^(info|config|replconf)/.test(command!)) calls[command!] = Number(count);
  }
  return calls;
}

// A primary and a replica of this file's own: the replica is stopped to make WAIT come back short.
describe('POST /webhooks/:flow with FANOUT_INGEST_REPLICAS', () => {
  let dirs: string[];
  let primary: RedisServer;
  let replica: RedisServer;
  let inspector: Redis;
  let redis: Redis;
  let ingress: TestIngress | undefined;

  beforeAll(async () => {
    dirs = await Promise.all([mkdtemp(join(tmpdir(), 'fanout-primary-')), mkdtemp(join(tmpdir(), 'fanout-replica-'))]);
    // No 5 s pause before the replica's first sync.
    primary = await startRedisServer({ dir: dirs[0]!, extraArgs: ['--repl-diskless-sync-delay', '0'] });
    // AOF off: a replica writing its first AOF after the sync ignores SIGTERM ("Writing initial AOF, can't exit").
    replica = await startRedisServer({ dir: dirs[1]!, appendOnly: false, extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    inspector = new Redis(primary.url);
    // WAIT counts only replicas past their initial sync.
    await waitUntil(async () => (await inspector.info('replication')).includes('state=online'), 'the replica to sync');
    // As in the main process: a `request` connection, whose 1 s command timeout is no longer than WAIT's.
    redis = createRedisConnection(primary.url, { purpose: 'request', name: 'ingress', scripts: [EVENT_LOG_SCRIPTS] });
    await redis.connect();
  });
  afterEach(async () => {
    await ingress?.close();
    ingress = undefined;
  });
  afterAll(async () => {
    redis.disconnect();
    inspector.disconnect();
    await Promise.all([replica.kill(), primary.kill()]);
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const send = (flow: Flow, headers: Record<string, string> = {}): Promise<Reply> => post(ingress!.port, `/webhooks/${flow.name}`, { headers, chunks: [Buffer.from('{}')] });

  it('costs one EVALSHA per event without replicas, with or without an idempotency key, and adds one WAIT with them', async () => {
    ingress = await startIngress({ redis, keys, flows: [plain, keyed] });
    // The first call of each script loads it (EVALSHA answers NOSCRIPT, then EVAL).
    await send(plain);
    await send(keyed, { 'idempotency-key': 'warm-up' });

    const appendScript = { xadd: 1, hset: 1, pexpire: 1 };
    await inspector.config('RESETSTAT');
    expect((await send(plain)).status).toBe(202);
    expect(await commandCalls(inspector)).toEqual({ evalsha: 1, ...appendScript });

    await inspector.config('RESETSTAT');
    expect((await send(keyed, { 'idempotency-key': 'k1' })).status).toBe(202);
    expect(await commandCalls(inspector)).toEqual({ evalsha: 1, get: 1, ...appendScript, set: 1 });

    await ingress.close();
    ingress = await startIngress({ redis, keys, flows: [plain], replicas: 1 });
    await inspector.config('RESETSTAT');
    expect((await send(plain)).status).toBe(202);
    expect(await commandCalls(inspector)).toEqual({ evalsha: 1, ...appendScript, wait: 1 });
  });

  it('answers 202 once the replica confirmed the event, and 503 REPLICATION_TIMEOUT with Retry-After when it cannot', async () => {
    ingress = await startIngress({ redis, keys, flows: [plain], replicas: 1 });
    const accepted = await send(plain);
    expect(accepted.status).toBe(202);

    await replica.stop();
    const refused = await send(plain);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    const { error } = refused.json<ErrorBody>();
    expect(error.code).toBe('REPLICATION_TIMEOUT');

    // The event is on the primary all the same: it may still be delivered.
    const eventId = /^event (\S+) is stored/.exec(error.message)?.[1];
    expect(await readEventRecord(inspector, keys.partitions[0]!, eventId ?? 'none')).toMatchObject({ flow: 'payments' });
    const logged = ingress.logs.find((line) => line['msg'] === 'event.replication_timeout');
    expect(logged).toMatchObject({ eventId, replicas: 1, confirmed: 0 });
    // WAIT itself answered 0: the client did not give up on it first.
    expect(logged).not.toHaveProperty('err');
  });
});
