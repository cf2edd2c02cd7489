import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from '@jest/globals';
import { createKeys } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, testConnection, testFlow } from '@fanout/testkit';
import { createHarness, jobCount, waitFor, type Harness } from './harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:1/o' }), httpDestination({ name: 'archive', url: 'http://127.0.0.1:1/a' })]);

let server: RedisServer | undefined;
let dir: string | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('keeps dispatching after Redis is killed and restarts from its AOF', async () => {
  // A Redis of its own: killing the shared test Redis would break the other test files.
  dir = await mkdtemp(join(tmpdir(), 'fanout-dispatcher-restart-'));
  server = await startRedisServer({ dir, appendFsync: 'always' });
  const redis = testConnection(server.url, 'restart-test');
  redis.on('error', () => {});
  h = await createHarness([flow], { url: server.url, keys: createKeys('restart'), redis, cleanup: async () => redis.disconnect() });
  await h.start({ claimIdleMs: 200, claimEveryMs: 100 });
  const before = await h.append('payments', { type: 'a' });
  await waitFor('the first event dispatched', async () => (await h!.pendingCount()) === 0 && (await jobCount(h!.queues, 'payments', 'orders')) === 1);

  await server.kill();
  await server.restart();
  const after = await h.append('payments', { type: 'b' });

  await waitFor('the event after the restart dispatched', async () => (await h!.queues.get('payments', 'archive')?.getJob(after.eventId)) !== undefined, 20_000);
  await waitFor('every entry acknowledged', async () => (await h!.pendingCount()) === 0);
  for (const destination of ['orders', 'archive']) {
    expect(await jobCount(h.queues, 'payments', destination)).toBe(2);
    expect((await h.queues.get('payments', destination)?.getJob(before.eventId))?.id).toBe(before.eventId);
  }
});
