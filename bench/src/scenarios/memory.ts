import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { Pool } from 'undici';
import type { BenchContext } from '../context.js';
import { destinationName, destinationPath, writeBenchFlow } from '../flows.js';
import { eventBody } from '../load.js';
import { cleanRedis, settledMemory, waitingJobs } from '../redis-tools.js';
import { startService } from '../service.js';

export interface MemoryRun {
  readonly destinations: number;
  readonly events: number;
  /** Redis bytes per accepted 1 KB event once its jobs exist and before any is delivered. */
  readonly inFlightPerEvent: number;
  /** Redis bytes per accepted 1 KB event once every destination has it, with BullMQ's kept completed jobs, records and attempt logs. */
  readonly deliveredPerEvent: number;
  /** How many times Redis holds a payload: the growth per extra payload byte (1 KB against 60 KB events). */
  readonly payloadCopies: number;
}

export const MEMORY_DESTINATIONS = [1, 8] as const;
const SMALL = 1024;
/**
 * Large enough that jemalloc's size classes (25 % apart) round it by a few per cent only:
 * with 8 KB events an 8.3 KB stream node lands in the 10 KB class and reads as 1.25 copies.
 */
const LARGE = 60 * 1024;

/**
 * Redis used_memory per accepted event, for 1 and 8 destinations. The ingress and the
 * dispatcher run first without workers, so two batches of events (1 KB, then 60 KB) are
 * read in flight: the difference between them says how many copies of a payload Redis
 * keeps. Then the workers deliver everything and memory is read again.
 */
export async function runMemory(ctx: BenchContext): Promise<MemoryRun[]> {
  const runs: MemoryRun[] = [];
  const events = ctx.quick ? 100 : 400;
  for (const destinations of MEMORY_DESTINATIONS) {
    const name = `memory-${destinations}`;
    ctx.log(`memory: ${destinations} destination(s)`);
    const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations });
    const prefix = ctx.newPrefix(name);
    const keys = createKeys(prefix);
    const queues = Array.from({ length: destinations }, (_, i) => deliveryQueueName(name, destinationName(i)));
    const paths = Array.from({ length: destinations }, (_, i) => destinationPath(name, destinationName(i)));
    const common = { node: ctx.node.path, mainScript: ctx.mainScript, redisUrl: ctx.redisUrl, flowsPath, prefix };
    const front = await startService({ ...common, roles: ['ingress', 'dispatcher'] });
    ctx.sink.reset();

    const dispatched = async (jobs: number): Promise<void> => {
      const until = Date.now() + 20_000;
      while ((await waitingJobs(ctx.redis, keys.bullPrefix, queues)) < jobs && Date.now() < until) await sleep(50);
    };
    const m0 = await settledMemory(ctx.redis);
    await post(`${front.url}/webhooks/${name}`, events, SMALL);
    await dispatched(events * destinations);
    const m1 = await settledMemory(ctx.redis);
    await post(`${front.url}/webhooks/${name}`, events, LARGE);
    await dispatched(2 * events * destinations);
    const m2 = await settledMemory(ctx.redis);

    const workers = await startService({ ...common, roles: ['worker'] });
    const until = Date.now() + 30_000;
    while (paths.reduce((sum, path) => sum + ctx.sink.count(path), 0) < 2 * events * destinations && Date.now() < until) await sleep(50);
    // The sink answered; the attempt records and job completions follow within a round trip or two.
    await sleep(500);
    const m3 = await settledMemory(ctx.redis);
    await Promise.all([front.stop(), workers.stop()]);
    await cleanRedis(ctx.redis, prefix);
    ctx.sink.reset();

    const smallGrowth = (m1 - m0) / events;
    const largeGrowth = (m2 - m1) / events;
    runs.push({
      destinations,
      events,
      inFlightPerEvent: smallGrowth,
      // What delivery adds per event does not depend on the payload's size, so it is read over both batches.
      deliveredPerEvent: smallGrowth + (m3 - m2) / (2 * events),
      payloadCopies: (largeGrowth - smallGrowth) / (LARGE - SMALL),
    });
  }
  return runs;
}

/** POSTs `count` events, 16 at a time, and checks every one was accepted. */
async function post(url: string, count: number, bytes: number): Promise<void> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 16 });
  let next = 0;
  const sendNext = async (): Promise<void> => {
    while (next < count) {
      const seq = next++;
      const { statusCode, body } = await pool.request({ path: target.pathname, method: 'POST', body: eventBody(bytes, seq), headers: { 'content-type': 'application/json' } });
      await body.dump();
      if (statusCode !== 202) throw new Error(`the ingress answered ${statusCode} to event ${seq}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, sendNext));
  await pool.close();
}
