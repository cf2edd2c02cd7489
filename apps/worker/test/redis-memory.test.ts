import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, jest } from '@jest/globals';
import { createKeys } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, testConnection, testFlow } from '@fanout/testkit';
import type { Redis } from 'ioredis';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let dir: string | undefined;
let server: RedisServer | undefined;
let admin: Redis | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  admin?.disconnect();
  await server?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// A Redis of this file's own, driven to its maxmemory while a delivery is in flight.
it('records an attempt once Redis takes writes again, after refusing them at its maxmemory, and sends it once', async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-worker-oom-'));
  server = await startRedisServer({ dir, appendOnly: false });
  admin = testConnection(server.url, 'oom-admin');
  h = await startHarness({
    flow: (url) => testFlow('memory', [httpDestination({ name: 'orders', url: `${url}/orders`, timeoutMs: 10_000 })]),
    redis: { url: server.url, keys: createKeys('oom'), cleanup: async () => {} },
  });
  // The destination answers after 400 ms: by then Redis is full, so the outcome's write is what meets the refusal.
  h.receiver.script('/orders', () => ({ status: 200, delayMs: 400 }));
  const orders = h.destination('orders');
  const eventId = await h.publish([orders]);
  await h.receiver.waitFor('/orders', 1);
  await admin.config('SET', 'maxmemory', '1');

  // Refused, and tried again: the record is not written, nothing is sent again, the job stays active.
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(h.receiver.requestsTo('/orders')).toHaveLength(1);
  expect(await h.queue(orders).getJobState(eventId)).toBe('active');
  expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'delivery.record_failed', eventId, transition: 'markDelivered' }));
  const retries = (await h.metrics.recordRetries.get()).values.find((value) => value.labels['destination'] === 'orders')?.value ?? 0;
  expect(retries).toBeGreaterThan(1);

  await admin.config('SET', 'maxmemory', '0');
  await expect(h.waitForRecord(eventId, orders, isSettled)).resolves.toMatchObject({ status: 'delivered', attempts: 1 });
  await h.waitForJobState(orders, eventId, 'completed');
  expect(h.receiver.requestsTo('/orders')).toHaveLength(1);
  expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'delivery.recorded_after_retries', eventId }));
  expect(await admin.zcard(createKeys('oom').partitions[0]!.openDeliveries)).toBe(0);
});
