import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { replies, startReceiver, type ScriptedReceiver } from '@fanout/testkit';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

const TOKEN = 'shutdown-token';

/** Resolves once this process's HTTP server has received a request for `path`. */
function requestArrived(path: string): Promise<void> {
  return new Promise((resolve) => {
    const onStart = (message: unknown): void => {
      if ((message as { request: IncomingMessage }).request.url !== path) return;
      unsubscribe('http.server.request.start', onStart);
      resolve();
    };
    subscribe('http.server.request.start', onStart);
  });
}

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

  it('resolves with a delivery and an admin request in flight, instead of waiting for Redis', async () => {
    const base = `http://127.0.0.1:${fanout.port}`;
    const accepted = await fetch(`${base}/webhooks/shop`, { method: 'POST', body: '{}' });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };
    await receiver.waitFor('/slow', 1);

    await redis.kill();
    // Its Redis read waits for a reconnect that never comes, and server.close() waits for it.
    const path = `/events/${id}`;
    const arrived = requestArrived(path);
    const adminRequest = fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then(
      (response) => response.status,
      () => 'cut off',
    );
    await arrived;

    // Jest's timeout is the bound: every step waiting on Redis would otherwise wait forever.
    await expect(fanout.shutdown()).resolves.toBeUndefined();
    expect(await adminRequest).toBe('cut off');
  }, 30_000);
});
