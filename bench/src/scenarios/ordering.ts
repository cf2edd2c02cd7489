import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadFlows, type Flow } from '@fanout/flows';
import { deliveryQueueName, orderLineName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { destinationName, destinationPath, slowKeyPath, writeBenchFlow, type BenchFlowSpec } from '../flows.js';
import { eventBody, openLoop } from '../load.js';
import { meterRate } from '../meter.js';
import { addDeliveryJobs, appendEvents, cleanRedis, commandCostPer, commandStats, recordDeliveries, type CommandCost, type QueuedEvent } from '../redis-tools.js';
import { startService, type ServiceProcess } from '../service.js';
import { summarizeLatencies, type LatencySummary } from '../stats.js';
import { profile } from './ingest.js';

export interface OrderingResults {
  readonly fifo: {
    /** Deliveries per second at the sink, fifo, the worker alone on a preloaded line. */
    readonly perSecond: number;
    /** CPU µs the worker spent per delivery: what is not waiting on a round trip. */
    readonly cpuUsPerDelivery: number;
    /** What Redis did per delivery (each call a round trip, most of them one after the other). */
    readonly redisPerDelivery: readonly CommandCost[];
    /** One POST to the sink, back to back (undici, one in flight), ms. */
    readonly postRoundTripMs: number;
    /** One Redis command (PING), back to back, ms. */
    readonly redisRoundTripMs: number;
  };
  /** Deliveries per second (and the worker's CPU per delivery) at concurrency `concurrency`, ordered by `keys` keys and unordered, alternated run by run. */
  readonly keyed: { readonly keys: number; readonly concurrency: number; readonly keyed: readonly PreloadedRun[]; readonly none: readonly PreloadedRun[] };
  /** Ingest → first byte at the sink of every key but the slow one, at twin destinations without and with it (1 s per request), run by run. */
  readonly slowKey: { readonly rate: number; readonly delayMs: number; readonly without: readonly KeyedLatency[]; readonly with: readonly KeyedLatency[] };
}

export interface PreloadedRun {
  readonly perSecond: number;
  /** CPU µs the worker spent per delivery. */
  readonly cpuUsPerDelivery: number;
  readonly redisPerDelivery: readonly CommandCost[];
}

export interface KeyedLatency {
  readonly latency: LatencySummary;
  /** Events of the other keys not delivered when the run stopped waiting. */
  readonly missing: number;
}

const BODY_BYTES = 1024;
export const ORDERING_KEYS = 100;
export const KEYED_CONCURRENCY = 50;
const keyOf = (seq: number): string => `k${seq % ORDERING_KEYS}`;
/** The slow key, at the second of two twin destinations. */
const SLOW_KEY = { key: keyOf(0), delayMs: 1_000, destination: 1 } as const;
/** The slow-key run's rate: each of the 100 keys gets an event a second, as many as the slow key takes. */
const SLOW_KEY_RATE = 100;
/** The latency runs' warm-up, at least. */
const LATENCY_WARMUP_MS = 3_000;
/** Runs of each kind, alternated: a single run on a shared machine moves more than the targets allow. */
const PAIRS = 3;
/** Generous preloads: a faster run just drains early (the rate stays right). */
const FIFO_PRELOAD_PER_SECOND = 1_000;
const KEYED_PRELOAD_PER_SECOND = 4_000;

/**
 * The cost of ordering: a fifo destination (one delivery at a time, so bounded by a POST and
 * the Redis round trips between two deliveries) against 1 ÷ (POST round trip + one Redis
 * round trip) measured in the same run; a destination ordered by 100 keys at concurrency 50
 * against `ordering: none` at the same concurrency; and a slow key (1 s per request) against
 * the other keys' latency.
 */
export async function runOrdering(ctx: BenchContext): Promise<OrderingResults> {
  const seconds = (ctx.warmupMs + ctx.durationMs) / 1000;
  ctx.log('ordering: round trips');
  const postRoundTripMs = await postRoundTrip(ctx);
  const redisRoundTripMs = await redisRoundTrip(ctx);
  ctx.log('ordering: fifo');
  const fifo = await preloadedRun(ctx, { name: 'fifo', destinations: 1, ordering: 'fifo', concurrency: 1 }, Math.ceil(FIFO_PRELOAD_PER_SECOND * seconds));
  const keyed: PreloadedRun[] = [];
  const none: PreloadedRun[] = [];
  for (let pair = 1; pair <= (ctx.quick ? 1 : PAIRS); pair++) {
    ctx.log(`ordering: ${ORDERING_KEYS} keys at concurrency ${KEYED_CONCURRENCY}, and ordering none (${pair})`);
    none.push(await preloadedRun(ctx, { name: 'unordered', destinations: 1, concurrency: KEYED_CONCURRENCY }, Math.ceil(KEYED_PRELOAD_PER_SECOND * seconds)));
    keyed.push(await preloadedRun(ctx, { name: 'keyed', destinations: 1, ordering: 'key', concurrency: KEYED_CONCURRENCY }, Math.ceil(KEYED_PRELOAD_PER_SECOND * seconds)));
  }
  const without: KeyedLatency[] = [];
  const withSlow: KeyedLatency[] = [];
  for (let run = 1; run <= (ctx.quick ? 1 : PAIRS); run++) {
    ctx.log(`ordering: other keys' latency at ${SLOW_KEY_RATE} events/s, at twin destinations without and with a slow key (${run})`);
    const twins = await keyedLatency(ctx);
    without.push(twins.without);
    withSlow.push(twins.with);
  }
  return {
    fifo: { ...fifo, postRoundTripMs, redisRoundTripMs },
    keyed: { keys: ORDERING_KEYS, concurrency: KEYED_CONCURRENCY, keyed, none },
    slowKey: { rate: SLOW_KEY_RATE, delayMs: SLOW_KEY.delayMs, without, with: withSlow },
  };
}

/** One POST at a time to the sink with undici (fanout's sender): ms per POST. */
async function postRoundTrip(ctx: BenchContext): Promise<number> {
  const loop = startBaseline(ctx, 'post-loop', { client: 'undici', url: `${ctx.sink.url}/loop/round-trip`, concurrency: 1, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, bodyBytes: BODY_BYTES });
  const { perSecond } = (await loop.result) as { perSecond: number };
  return 1000 / perSecond;
}

/** One PING at a time on the bench's connection for the measured duration: ms per command. */
async function redisRoundTrip(ctx: BenchContext): Promise<number> {
  const until = performance.now() + ctx.warmupMs;
  while (performance.now() < until) await ctx.redis.ping();
  let count = 0;
  const from = performance.now();
  while (performance.now() - from < ctx.durationMs) {
    await ctx.redis.ping();
    count++;
  }
  return (performance.now() - from) / count;
}

/** The worker alone on `events` preloaded deliveries of one destination: ordered ones in their lines, only each line's first with a job, as the dispatcher leaves them. Deliveries/s at the sink, and the worker's CPU per delivery. */
async function preloadedRun(ctx: BenchContext, spec: BenchFlowSpec, events: number): Promise<PreloadedRun> {
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, spec);
  const [flow] = await loadFlows(flowsPath, process.env);
  const prefix = ctx.newPrefix(spec.name);
  const keys = createKeys(prefix);
  const appended = await appendEvents(ctx.redis, keys, spec.name, events, (i) => eventBody(BODY_BYTES, i, keyOf(i)));
  await preloadDispatched(ctx, keys, flow!, spec.ordering ?? 'none', appended);
  const path = destinationPath(spec.name, destinationName(0));
  ctx.sink.reset();
  const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['worker'], redisUrl: ctx.redisUrl, flowsPath, prefix, ...profile(ctx, `ordering-${spec.name}-worker`) });
  const cpuAtStart = service.cpuMs();
  const statsAtStart = await commandStats(ctx.redis);
  const countAtStart = ctx.sink.count(path);
  const delivered = await meterRate({ read: () => ctx.sink.count(path), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: events });
  const cpuMs = service.cpuMs() - cpuAtStart;
  const count = ctx.sink.count(path);
  const redisPerDelivery = commandCostPer(statsAtStart, await commandStats(ctx.redis), Math.max(1, count - countAtStart)).filter((cost) => cost.command !== 'info');
  await service.stop();
  recordUnits(ctx, `ordering-${spec.name}-worker`, count, 'delivery');
  await cleanRedis(ctx.redis, prefix);
  return { perSecond: delivered.perSecond, cpuUsPerDelivery: (cpuMs * 1000) / Math.max(1, count - countAtStart), redisPerDelivery };
}

/** What the dispatcher leaves for these events: records, and a job for each pending delivery (every one, or each line's first). */
async function preloadDispatched(ctx: BenchContext, keys: ReturnType<typeof createKeys>, flow: Flow, ordering: 'none' | 'fifo' | 'key', appended: readonly QueuedEvent[]): Promise<void> {
  if (ordering === 'none') {
    await recordDeliveries(ctx.redis, keys, flow, appended, 3_600_000);
    await addDeliveryJobs(ctx.redis, keys, flow, appended);
    return;
  }
  const destination = flow.destinations[0]!;
  const queue = deliveryQueueName(flow.name, destination.name);
  const lined = appended.map((event, i) => ({ ...event, line: orderLineName(queue, ordering === 'fifo' ? '' : keyOf(i)) }));
  const statuses = await recordDeliveries(ctx.redis, keys, flow, lined, 3_600_000, (event) => event.line!);
  await addDeliveryJobs(ctx.redis, keys, flow, lined.filter((_, i) => statuses[i]!.get(destination.name) === 'pending'));
}

/**
 * Open loop through the whole pipeline (roles in 3 processes) to two twin destinations
 * ordered by 100 keys at concurrency 50, the second answered after 1 s for the slow key:
 * ingest → first byte at the sink of every event but the slow key's, at each. Side by side
 * in one run, the two see the same machine at the same moments.
 */
async function keyedLatency(ctx: BenchContext): Promise<{ without: KeyedLatency; with: KeyedLatency }> {
  const name = 'slow-key';
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations: 2, ordering: 'key', concurrency: KEYED_CONCURRENCY, slowKey: SLOW_KEY });
  const prefix = ctx.newPrefix(name);
  const common = { node: ctx.node.path, mainScript: ctx.mainScript, redisUrl: ctx.redisUrl, flowsPath, prefix };
  const processes: ServiceProcess[] = await Promise.all([
    startService({ ...common, roles: ['ingress'] }),
    startService({ ...common, roles: ['dispatcher'] }),
    startService({ ...common, roles: ['worker'] }),
  ]);
  const [plain, slowed] = [0, 1].map((i) => destinationPath(name, destinationName(i)));
  const paths = [plain!, slowKeyPath(slowed!, SLOW_KEY)];
  ctx.sink.reset();
  ctx.sink.recordArrivals(true);
  // Three processes just started: their first seconds (JIT, connections) move p99 more than a slow key could.
  const warmupMs = ctx.quick ? ctx.warmupMs : Math.max(ctx.warmupMs, LATENCY_WARMUP_MS);
  const sent = await openLoop(`${processes[0]!.url}/webhooks/${name}`, SLOW_KEY_RATE, warmupMs + ctx.durationMs, BODY_BYTES, keyOf);
  const others = [...sent.seqs].filter(([, seq]) => keyOf(seq) !== SLOW_KEY.key).map(([id]) => id);
  const arrivedAt = (path: string): Map<string, number> => {
    const first = new Map<string, number>();
    for (const { webhookId, at } of ctx.sink.arrivals(path)) if (!first.has(webhookId)) first.set(webhookId, at);
    return first;
  };
  const drainUntil = Date.now() + (ctx.quick ? 2_000 : 8_000);
  while (paths.some((path) => others.some((id) => !arrivedAt(path).has(id))) && Date.now() < drainUntil) await sleep(100);
  const measuredFrom = Math.min(...sent.sentAt.values()) + warmupMs;
  const measured = others.filter((id) => sent.sentAt.get(id)! >= measuredFrom);
  const at = (path: string): KeyedLatency => {
    const first = arrivedAt(path);
    const latencies = measured.flatMap((id) => (first.has(id) ? [first.get(id)! - sent.sentAt.get(id)!] : []));
    return { latency: summarizeLatencies(latencies), missing: measured.length - latencies.length };
  };
  const result = { without: at(paths[0]!), with: at(paths[1]!) };
  ctx.sink.recordArrivals(false);
  await Promise.all(processes.map((process) => process.stop()));
  ctx.sink.reset();
  await cleanRedis(ctx.redis, prefix);
  return result;
}
