import { loadFlows } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { POST_CLIENTS, type PostClient } from '../baselines/post-clients.js';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { destinationName, destinationPath, writeBenchFlow } from '../flows.js';
import { eventBody } from '../load.js';
import { meterRate } from '../meter.js';
import { machineCpuMs } from '../machine-cpu.js';
import { addDeliveryJobs, appendEvents, cleanRedis, commandCostPer, commandStats, recordDeliveries, waitingJobs, type CommandCost } from '../redis-tools.js';
import { startService } from '../service.js';
import { profile } from './ingest.js';

export interface DeliveryResults {
  /** Deliveries per second at the sink, 2 destinations. */
  readonly fanout: number;
  /** Jobs per second through a no-op BullMQ worker per queue, concurrency 100. */
  readonly noopWorker: number;
  /** POSTs per second of a bare client loop, 100 in flight, per client (--quick tries one got only). */
  readonly loops: Partial<Record<PostClient, number>>;
  /** What Redis did per job: fanout's workers, and the no-op worker. */
  readonly redisPerJob: { readonly fanout: CommandCost[]; readonly noopWorker: CommandCost[] };
  /** CPU microseconds the process under test spent per job, whatever the machine's load. */
  readonly cpuUsPerJob: { readonly fanout: number; readonly noopWorker: number };
  /** CPU microseconds per job of every process the run needs: the two runs compete for the same cores. */
  readonly machineCpuUsPerJob: { readonly fanout: MachineCpu; readonly noopWorker: MachineCpu };
  /** CPU microseconds per POST of each client loop. */
  readonly cpuUsPerPost: Partial<Record<PostClient, number>>;
}

/** CPU µs per job by process; `sink` is this process, which also reads the counters. */
export interface MachineCpu {
  readonly worker: number;
  readonly redis: number;
  readonly sink: number;
}

const DESTINATIONS = 2;
export const LOOP_CONCURRENCY = 100;
const BODY_BYTES = 1024;
const QUICK_CLIENTS: readonly PostClient[] = ['got-stream', 'undici', 'node-http'];
/**
 * The budget's no-op worker figure, to size its preload. Preloading is the slow part of this
 * run; when a queue runs dry early the window just ends there (the rate stays right).
 */
const EXPECTED_NOOP_PER_SECOND = 9_000;
/** fanout's preload, as a share of the no-op rate: above the target (0.5×); a faster fanout just drains it early. */
const EXPECTED_SHARE_OF_NOOP = 0.6;

/**
 * Deliveries per second with 2 destinations: fanout's workers alone on preloaded queues
 * (counted at the sink), a no-op BullMQ worker on the same kind of preload (counted from the
 * wait lists), and bare POST loops of each HTTP client against the same sink.
 */
export async function runDelivery(ctx: BenchContext): Promise<DeliveryResults> {
  const name = 'delivery';
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations: DESTINATIONS });
  const [flow] = await loadFlows(flowsPath, process.env);
  const queues = Array.from({ length: DESTINATIONS }, (_, i) => deliveryQueueName(name, destinationName(i)));
  const seconds = (ctx.warmupMs + ctx.durationMs) / 1000;

  ctx.log('delivery: BullMQ no-op worker');
  const basePrefix = ctx.newPrefix(`${name}-noop`);
  const baseKeys = createKeys(basePrefix);
  const baseEvents = Math.ceil((EXPECTED_NOOP_PER_SECOND * seconds) / DESTINATIONS);
  await addDeliveryJobs(ctx.redis, baseKeys, flow!, fakeEvents(baseEvents));
  const noopStats = await commandStats(ctx.redis);
  const worker = startBaseline(ctx, 'noop-worker', { redisUrl: ctx.redisUrl, bullPrefix: baseKeys.bullPrefix, queues, concurrency: 100 }, 'delivery-noop-worker');
  const preloaded = baseEvents * DESTINATIONS;
  await worker.ready;
  const noopCpuAtStart = worker.cpuMs();
  const noopMachineAtStart = await machineCpuMs(ctx.redis);
  const noop = await meterRate({ read: async () => preloaded - (await waitingJobs(ctx.redis, baseKeys.bullPrefix, queues)), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: preloaded });
  const noopCpuMs = worker.cpuMs() - noopCpuAtStart;
  const noopMachineMs = await machineCpuMs(ctx.redis, noopMachineAtStart);
  await worker.stop();
  const noopDone = preloaded - (await waitingJobs(ctx.redis, baseKeys.bullPrefix, queues));
  const noopCost = commandCostPer(noopStats, await commandStats(ctx.redis), noopDone);
  recordUnits(ctx, 'delivery-noop-worker', noopDone, 'job');
  await cleanRedis(ctx.redis, basePrefix);

  ctx.log('delivery: fanout workers');
  const prefix = ctx.newPrefix(name);
  const keys = createKeys(prefix);
  const events = Math.ceil((Math.max(noop.perSecond * EXPECTED_SHARE_OF_NOOP, 1_000) * seconds) / DESTINATIONS);
  const appended = await appendEvents(ctx.redis, keys, name, events, (i) => eventBody(BODY_BYTES, i));
  await recordDeliveries(ctx.redis, keys, flow!, appended, 3_600_000);
  await addDeliveryJobs(ctx.redis, keys, flow!, appended);
  const paths = queues.map((_, i) => destinationPath(name, destinationName(i)));
  ctx.sink.reset();
  const serviceStats = await commandStats(ctx.redis);
  const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['worker'], redisUrl: ctx.redisUrl, flowsPath, prefix, ...profile(ctx, 'delivery-worker') });
  const serviceCpuAtStart = service.cpuMs();
  const serviceMachineAtStart = await machineCpuMs(ctx.redis);
  const delivered = await meterRate({ read: () => paths.reduce((sum, path) => sum + ctx.sink.count(path), 0), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: events * DESTINATIONS });
  const serviceCpuMs = service.cpuMs() - serviceCpuAtStart;
  const serviceMachineMs = await machineCpuMs(ctx.redis, serviceMachineAtStart);
  await service.stop();
  const deliveredCount = paths.reduce((sum, path) => sum + ctx.sink.count(path), 0);
  const serviceCost = commandCostPer(serviceStats, await commandStats(ctx.redis), deliveredCount);
  recordUnits(ctx, 'delivery-worker', deliveredCount, 'delivery');
  await cleanRedis(ctx.redis, prefix);

  const loops: Partial<Record<PostClient, number>> = {};
  const cpuUsPerPost: Partial<Record<PostClient, number>> = {};
  for (const client of ctx.quick ? QUICK_CLIENTS : POST_CLIENTS) {
    ctx.log(`delivery: POST loop, ${client}`);
    const loop = startBaseline(ctx, 'post-loop', { client, url: `${ctx.sink.url}/loop/${client}`, concurrency: LOOP_CONCURRENCY, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, bodyBytes: BODY_BYTES }, `delivery-loop-${client}`);
    const { perSecond, total, cpuUsPerPost: cpu } = (await loop.result) as { perSecond: number; total: number; cpuUsPerPost: number };
    cpuUsPerPost[client] = cpu;
    recordUnits(ctx, `delivery-loop-${client}`, total, 'POST');
    loops[client] = perSecond;
  }
  return { fanout: delivered.perSecond, noopWorker: noop.perSecond, loops,
    redisPerJob: { fanout: serviceCost, noopWorker: noopCost },
    cpuUsPerJob: { fanout: (serviceCpuMs * 1000) / Math.max(1, deliveredCount), noopWorker: (noopCpuMs * 1000) / Math.max(1, noopDone) },
    machineCpuUsPerJob: {
      fanout: { worker: (serviceCpuMs * 1000) / Math.max(1, deliveredCount), redis: (serviceMachineMs.redis * 1000) / Math.max(1, deliveredCount), sink: (serviceMachineMs.bench * 1000) / Math.max(1, deliveredCount) },
      noopWorker: { worker: (noopCpuMs * 1000) / Math.max(1, noopDone), redis: (noopMachineMs.redis * 1000) / Math.max(1, noopDone), sink: (noopMachineMs.bench * 1000) / Math.max(1, noopDone) },
    },
    cpuUsPerPost,
  };
}

/** Jobs for the no-op worker need no stream entry: it never reads one. */
function fakeEvents(count: number): { eventId: string; streamId: string; receivedAt: number }[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({ eventId: `evt-${i}`, streamId: `${now}-${i}`, receivedAt: now }));
}
