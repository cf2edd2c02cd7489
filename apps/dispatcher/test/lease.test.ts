import { afterEach, describe, expect, it } from '@jest/globals';
import { readEventRecord } from '@fanout/delivery';
import { readNewEvents } from '@fanout/event-log';
import { httpDestination, startTcpProxy, testConnection, testFlow, type TcpProxy } from '@fanout/testkit';
import type { Redis } from 'ioredis';
import { createHarness, jobCount, TEST_LEASE_TTL_MS, waitFor, type Harness } from './harness.js';

const ordered = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:1/orders', ordering: 'fifo', concurrency: 1 })]);
const line = async (h: Harness): Promise<string[]> => {
  const [key] = await h.fx.redis.keys(h.partition.line('*'));
  return key ? (await h.fx.redis.lrange(key, 0, -1)).map((member) => member.split('|')[0]!) : [];
};

/** A blocking connection named `name` that reaches the test Redis through a TCP proxy the test can cut or hold. */
async function readerThroughProxy(h: Harness, name: string): Promise<{ proxy: TcpProxy; reader: Redis; blocked: () => Promise<boolean> }> {
  const redisUrl = new URL(h.fx.url);
  const proxy = await startTcpProxy(`${redisUrl.hostname}:${redisUrl.port}`);
  redisUrl.port = String(proxy.port);
  const reader = testConnection(redisUrl.toString(), name);
  reader.on('error', () => {});
  await reader.connect();
  const blocked = async (): Promise<boolean> => ((await h.fx.redis.client('LIST')) as string).split('\n').some((client) => client.includes(`name=${name}`) && client.includes('flags=b'));
  return { proxy, reader, blocked };
}

describe('the dispatch lease: one dispatcher per partition', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('lets one dispatcher dispatch while another waits, and hands over when the first stops', async () => {
    h = await createHarness([ordered]);
    const a = await h.start({ consumer: 'dispatcher-a' });
    await waitFor('a holds the lease', async () => (await h.fx.redis.get(h.partition.dispatchLease)) === 'dispatcher-a');
    await h.start({ consumer: 'dispatcher-b' });
    const early = await h.append('payments', { n: 1 });
    await waitFor('the first event dispatched', async () => (await h.pendingCount()) === 0 && (await line(h)).length === 1);
    expect(h.logs.filter(({ msg }) => msg === 'dispatcher.lease_taken').map(({ consumer }) => consumer)).toEqual(['dispatcher-a']);

    await a.stop();
    const late = await h.append('payments', { n: 2 });
    await waitFor('b took over and dispatched', async () => (await h.pendingCount()) === 0 && (await line(h)).length === 2);
    expect(h.logs.filter(({ msg }) => msg === 'dispatcher.lease_taken').map(({ consumer }) => consumer)).toEqual(['dispatcher-a', 'dispatcher-b']);
    expect(await line(h)).toEqual([early.eventId, late.eventId]);
  });

  it('takes over the entries a dead dispatcher left pending before reading new ones: lines joined in stream order', async () => {
    h = await createHarness([ordered]);
    const before = [await h.append('payments', { n: 1 }), await h.append('payments', { n: 2 }), await h.append('payments', { n: 3 })];
    // A dispatcher read them and died before recording them.
    expect((await readNewEvents(await h.connection(), h.partition, 'dead', 10, 10)).events).toHaveLength(3);
    const after = [await h.append('payments', { n: 4 }), await h.append('payments', { n: 5 })];

    await h.start({ consumer: 'survivor', claimIdleMs: 60_000 });
    await waitFor('every entry dispatched', async () => (await h.pendingCount()) === 0);
    expect(await line(h)).toEqual([...before, ...after].map(({ eventId }) => eventId));
    expect(await jobCount(h.queues, 'payments', 'orders')).toBe(1);
    expect((await readEventRecord(h.fx.redis, h.partition, after[1]!.eventId))?.deliveries).toMatchObject([{ destination: 'orders', status: 'held' }]);
  });

  it('claims the entries of a read whose reply was lost before the entries its read sent again gets', async () => {
    h = await createHarness([ordered]);
    // The dispatcher's blocking connection goes through the proxy; ioredis sends again what a lost connection left unanswered.
    const { proxy, reader, blocked } = await readerThroughProxy(h, 'lost-reply-reader');
    const dispatcher = await h.start({ consumer: 'dispatcher-a', redis: reader, blockMs: 5_000, claimIdleMs: 60_000 });
    try {
      await waitFor('the dispatcher blocks in XREADGROUP', blocked);
      // Redis serves the blocked read and the reply is lost on the way (Redis killed after its AOF write, a network cut).
      proxy.swallowReplies();
      const lost = await h.append('payments', { n: 1 });
      await waitFor('the read took it', async () => (await h.pendingCount()) === 1);
      proxy.dropConnections();
      await waitFor('the read sent again blocks', blocked);
      const later = [await h.append('payments', { n: 2 }), await h.append('payments', { n: 3 })];
      await waitFor('every entry dispatched', async () => (await h.pendingCount()) === 0 && (await line(h)).length === 3);
      expect(await line(h)).toEqual([lost, ...later].map(({ eventId }) => eventId));
    } finally {
      await dispatcher.stop();
      reader.disconnect();
      await proxy.close();
    }
  }, 30_000);

  it('claims what a read of a dispatcher that lost the lease took, before the newer entries it reads itself', async () => {
    h = await createHarness([ordered]);
    const { proxy, reader, blocked } = await readerThroughProxy(h, 'holder-reader');
    const holder = await h.start({ consumer: 'dispatcher-b', redis: reader, blockMs: 100, claimIdleMs: 60_000 });
    try {
      await waitFor('b holds the lease', async () => (await h.fx.redis.get(h.partition.dispatchLease)) === 'dispatcher-b');
      // b's next read waits in the proxy, so that a's read, in flight when it lost the lease, is served first.
      const release = proxy.holdRequests();
      await waitFor('b is not blocked in a read', async () => !(await blocked()));
      const stale = await h.append('payments', { n: 1 });
      expect((await readNewEvents(await h.connection(), h.partition, 'dispatcher-a', 10)).events.map(({ entry }) => entry.id)).toEqual([stale.eventId]);
      const newer = [await h.append('payments', { n: 2 }), await h.append('payments', { n: 3 })];
      release();
      await waitFor('every entry dispatched', async () => (await h.pendingCount()) === 0 && (await line(h)).length === 3);
      expect(await line(h)).toEqual([stale, ...newer].map(({ eventId }) => eventId));
    } finally {
      await holder.stop();
      reader.disconnect();
      await proxy.close();
    }
  }, 30_000);

  it('steps down when another took its lease: its writes are refused, and it dispatches again once it holds the lease', async () => {
    h = await createHarness([ordered]);
    await h.start({ consumer: 'dispatcher-a' });
    await waitFor('a holds the lease', async () => (await h.fx.redis.get(h.partition.dispatchLease)) === 'dispatcher-a');
    // Another dispatcher took the partition (a's lease expired while it was stalled).
    await h.fx.redis.set(h.partition.dispatchLease, 'intruder', 'PX', 60_000);
    const event = await h.append('payments', { n: 1 });
    await waitFor('a stepped down', () => h.logs.some(({ msg }) => msg === 'dispatcher.lease_lost'));
    await new Promise((resolve) => setTimeout(resolve, 3 * TEST_LEASE_TTL_MS));
    expect(await readEventRecord(h.fx.redis, h.partition, event.eventId)).toMatchObject({ deliveries: [] });

    await h.fx.redis.del(h.partition.dispatchLease);
    await waitFor('a dispatched the event', async () => (await h.pendingCount()) === 0 && (await line(h)).length === 1);
    expect(h.logs.filter(({ msg }) => msg === 'dispatcher.lease_taken')).toHaveLength(2);
  });
});
