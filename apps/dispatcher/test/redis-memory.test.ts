import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, jest } from '@jest/globals';
import { createKeys } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, testConnection, testFlow } from '@fanout/testkit';
import { createHarness, jobCount, waitFor, type Harness } from './harness.js';

jest.setTimeout(30_000);

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:1/o' })]);

let dir: string | undefined;
let server: RedisServer | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await server?.kill();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('waits while Redis is at its maxmemory, without dead-lettering entries it could not dispatch, and dispatches them once it has room', async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-dispatcher-oom-'));
  server = await startRedisServer({ dir, appendOnly: false });
  const redis = testConnection(server.url, 'oom-test');
  h = await createHarness([flow], { url: server.url, keys: createKeys('oom'), redis, cleanup: async () => redis.disconnect() });
  const events = await Promise.all(Array.from({ length: 5 }, (_, n) => h!.append('payments', { type: 'a', n })));
  await redis.config('SET', 'maxmemory', '1');
  // Claims every 50 ms of entries idle for 100 ms: far more than 5 deliveries to the group if it kept trying.
  await h.start({ claimIdleMs: 100, claimEveryMs: 50 });

  await waitFor('the refusal logged', () => h!.logs.some(({ msg, err }) => msg === 'dispatcher.failed' && JSON.stringify(err).includes('OOM')));
  // Long enough for the loop's backoff (100 ms doubling) to come round six times: the delivery count that would dead-letter an entry (Redis refuses the claims too).
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  expect(await redis.xlen(h.partition.dispatchDeadLetters)).toBe(0);

  await redis.config('SET', 'maxmemory', '0');
  await waitFor('every entry dispatched', async () => (await h!.pendingCount()) === 0 && (await jobCount(h!.queues, 'payments', 'orders')) === events.length, 15_000);
  expect(await redis.xlen(h.partition.dispatchDeadLetters)).toBe(0);
});
