import { loadFlows } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { destinationName, writeBenchFlow } from '../flows.js';
import { eventBody } from '../load.js';
import { meterRate } from '../meter.js';
import { appendEvents, cleanRedis, waitingJobs } from '../redis-tools.js';
import { startService } from '../service.js';
import { profile } from './ingest.js';

export interface FanoutRun {
  readonly destinations: number;
  /** Jobs created per second by the dispatcher. */
  readonly fanout: number;
  /** Jobs created per second by raw BullMQ addBulk. */
  readonly addBulk: number;
  /** CPU each process used per job created (user + system, µs). */
  readonly cpuUsPerJob: { readonly fanout: number; readonly addBulk: number };
}

export const FANOUT_DESTINATIONS = [1, 4, 16] as const;
const QUICK_DESTINATIONS = [1, 16] as const;
/** Entries per XREADGROUP, the dispatcher's default; the baseline adds jobs in the same batches. */
const BATCH_SIZE = 100;

/**
 * Jobs created per second: the dispatcher alone draining a preloaded stream, against raw
 * BullMQ addBulk into the same queues. Both are counted the same way, from the queues' wait
 * lists, over the steady window.
 */
export async function runFanout(ctx: BenchContext): Promise<FanoutRun[]> {
  const runs: FanoutRun[] = [];
  for (const destinations of ctx.quick ? QUICK_DESTINATIONS : FANOUT_DESTINATIONS) {
    const name = `fanout-${destinations}`;
    const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations });
    const [flow] = await loadFlows(flowsPath, process.env);
    const queues = Array.from({ length: destinations }, (_, i) => deliveryQueueName(name, destinationName(i)));

    ctx.log(`fan-out: ${destinations} destination(s), raw addBulk`);
    const basePrefix = ctx.newPrefix(`${name}-addbulk`);
    const baseKeys = createKeys(basePrefix);
    const child = startBaseline(ctx, 'add-bulk', { redisUrl: ctx.redisUrl, bullPrefix: baseKeys.bullPrefix, flowsPath, flow: name, batchSize: BATCH_SIZE, durationMs: ctx.warmupMs + ctx.durationMs + 500 }, `${name}-addbulk`);
    const baseline = await meterRate({ read: () => waitingJobs(ctx.redis, baseKeys.bullPrefix, queues), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs });
    const { jobs: baselineJobs, cpuUs: baseCpuUs } = (await child.result) as { jobs: number; cpuUs: number };
    recordUnits(ctx, `${name}-addbulk`, baselineJobs, 'job');
    await cleanRedis(ctx.redis, basePrefix);

    ctx.log(`fan-out: ${destinations} destination(s), fanout dispatcher`);
    const prefix = ctx.newPrefix(name);
    const keys = createKeys(prefix);
    // As many events as the baseline handled in the same time: enough for the window unless the dispatcher is faster.
    const events = Math.max(1_000, Math.ceil((baselineJobs * 1.1) / destinations));
    await appendEvents(ctx.redis, keys, flow!.name, events, (i) => eventBody(1024, i));
    const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['dispatcher'], redisUrl: ctx.redisUrl, flowsPath, prefix, ...profile(ctx, `${name}-dispatcher`) });
    const cpuAtStart = service.cpuMs();
    const measured = await meterRate({ read: () => waitingJobs(ctx.redis, keys.bullPrefix, queues), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: events * destinations });
    const cpuMs = service.cpuMs() - cpuAtStart;
    await service.stop();
    const created = await waitingJobs(ctx.redis, keys.bullPrefix, queues);
    recordUnits(ctx, `${name}-dispatcher`, created, 'job');
    await cleanRedis(ctx.redis, prefix);
    runs.push({ destinations, fanout: measured.perSecond, addBulk: baseline.perSecond, cpuUsPerJob: { fanout: (cpuMs * 1000) / Math.max(1, created), addBulk: baseCpuUs / Math.max(1, baselineJobs) } });
  }
  return runs;
}
