import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys, type FanoutKeys } from '@fanout/redis';
import type { BenchContext } from '../context.js';
import { destinationName, destinationPath, failingPath, writeBenchFlow } from '../flows.js';
import { postEvents } from '../load.js';
import { cleanRedis, memoryByDeletion, queueCounts, settledMemory, waitingJobs, type KeyKind, type QueueCounts } from '../redis-tools.js';
import { startService, type ServiceProcess } from '../service.js';
import { ERROR_PAGE_BYTES } from '../sink.js';

/** Redis bytes per event held by each kind of key, read by deleting one kind after the other. */
export interface MemoryParts {
  /** BullMQ's job hashes and their sets (for delivered deliveries, the newest completed ones only; for dead ones, every failed job). */
  readonly bullJobs: number;
  /** BullMQ's events streams, one per queue, capped by BullMQ. */
  readonly bullEvents: number;
  readonly attemptLogs: number;
  readonly deadLetterCopies: number;
  /** Event records: the event's hash with one delivery record per destination. */
  readonly records: number;
  /** The event stream: the payloads, kept FANOUT_STREAM_RETENTION. */
  readonly stream: number;
  /** Every other key of the run (open deliveries, the dispatchers' dead letters…). */
  readonly rest: number;
}

/** Redis after `events` 1 KB events were delivered (or dead-lettered) with everything they leave kept. */
export interface SettledRun {
  readonly events: number;
  /** used_memory growth per event, the service's processes running at both readings. */
  readonly perEvent: number;
  /** The same memory split by kind of key, per event. */
  readonly parts: MemoryParts;
  /** BullMQ's queues when it was read, summed over the queues. */
  readonly queues: QueueCounts;
}

export interface MemoryRun {
  readonly destinations: number;
  /** Events posted per batch of the in-flight reading. */
  readonly inFlightEvents: number;
  /** Redis bytes per accepted 1 KB event once its jobs exist and before any is delivered. */
  readonly inFlightPerEvent: number;
  /** How many times Redis holds a payload: the growth per extra payload byte (1 KB against 60 KB events), in flight. */
  readonly payloadCopies: number;
  /** After ≥ 10,000 (quick: 2,000) delivered 1 KB events, while their records are kept. */
  readonly delivered: SettledRun;
}

/** A destination answering every attempt 500 with an 8 KB error page, so that every delivery ends dead. */
export interface FailingRun extends SettledRun {
  readonly attempts: number;
  readonly errorPageBytes: number;
  /** Attempts the sink answered (attempts × events when each ran). */
  readonly attemptsSeen: number;
}

export interface MemoryResults {
  /** The small events' size (1 KB). */
  readonly payloadBytes: number;
  readonly runs: MemoryRun[];
  readonly failing: FailingRun;
}

export const MEMORY_DESTINATIONS = [1, 8] as const;
export const PAYLOAD_BYTES = 1024;
/**
 * Large enough that jemalloc's size classes (25 % apart) round it by a few per cent only:
 * with 8 KB events an 8.3 KB stream node lands in the 10 KB class and reads as 1.25 copies.
 */
const LARGE = 60 * 1024;
const POST_CONNECTIONS = 16;
const STUCK_MS = 60_000;
/** The failing destination's retry policy: few attempts, close together, so that every event is dead within seconds. */
const FAILING_RETRY = { attempts: 3, delay: '100ms' } as const;

/** The kinds of key a run leaves, in the order they are deleted to read their memory; the last takes the rest. */
function keyKinds(keys: FanoutKeys): KeyKind<keyof MemoryParts>[] {
  const partition = keys.partitions[0]!;
  return [
    { name: 'bullEvents', pattern: `${keys.bullPrefix}:*:events` },
    { name: 'bullJobs', pattern: `${keys.bullPrefix}:*` },
    { name: 'attemptLogs', pattern: partition.attempts('*', '*') },
    { name: 'deadLetterCopies', pattern: partition.deadLetterEvent('*') },
    { name: 'records', pattern: partition.recordBucket('*') },
    { name: 'stream', pattern: partition.stream },
    { name: 'rest', pattern: `${keys.prefix}:*` },
  ];
}

/**
 * Redis used_memory per event, for 1 and 8 destinations, then for a destination that fails
 * every attempt.
 *
 * In flight: the ingress and the dispatcher run without workers, so two batches of events
 * (1 KB, then 60 KB) are read with their jobs waiting; the difference between them says how
 * many copies of a payload Redis keeps.
 *
 * Delivered: the whole pipeline takes 10,000 events (2,000 with --quick) and delivers them,
 * and memory is read while everything they leave is kept (the stream entries are within
 * FANOUT_STREAM_RETENTION, the records within FANOUT_EVENT_RETENTION, BullMQ keeps its newest
 * completed jobs), then split by kind of key.
 */
export async function runMemory(ctx: BenchContext): Promise<MemoryResults> {
  const runs: MemoryRun[] = [];
  const inFlightEvents = ctx.quick ? 100 : 400;
  const deliveredEvents = ctx.quick ? 2_000 : 10_000;
  for (const destinations of MEMORY_DESTINATIONS) {
    ctx.log(`memory: ${destinations} destination(s), in flight`);
    const inFlight = await measureInFlight(ctx, destinations, inFlightEvents);
    ctx.log(`memory: ${destinations} destination(s), ${deliveredEvents.toLocaleString('en-US')} events delivered`);
    const name = `memory-${destinations}`;
    const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations });
    const paths = Array.from({ length: destinations }, (_, i) => destinationPath(name, destinationName(i)));
    const delivered = await measureSettled(ctx, name, flowsPath, deliveredEvents, {
      queues: Array.from({ length: destinations }, (_, i) => deliveryQueueName(name, destinationName(i))),
      done: () => paths.reduce((sum, path) => sum + ctx.sink.count(path), 0) >= deliveredEvents * destinations,
    });
    runs.push({ destinations, inFlightEvents, ...inFlight, delivered });
  }

  const failingEvents = ctx.quick ? 300 : 1_000;
  ctx.log(`memory: a failing destination, ${failingEvents.toLocaleString('en-US')} events dead-lettered`);
  const name = 'memory-failing';
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations: 0, failing: FAILING_RETRY });
  const failing = await measureSettled(ctx, name, flowsPath, failingEvents, {
    queues: [deliveryQueueName(name, 'failing')],
    done: (counts) => counts.failed >= failingEvents,
  });
  return {
    payloadBytes: PAYLOAD_BYTES,
    runs,
    failing: { ...failing, attempts: FAILING_RETRY.attempts, errorPageBytes: ERROR_PAGE_BYTES, attemptsSeen: ctx.sink.count(failingPath(name)) },
  };
}

async function measureInFlight(ctx: BenchContext, destinations: number, events: number): Promise<Pick<MemoryRun, 'inFlightPerEvent' | 'payloadCopies'>> {
  const name = `memory-${destinations}-in-flight`;
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations });
  const prefix = ctx.newPrefix(name);
  const keys = createKeys(prefix);
  const queues = Array.from({ length: destinations }, (_, i) => deliveryQueueName(name, destinationName(i)));
  const front = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, redisUrl: ctx.redisUrl, flowsPath, prefix, roles: ['ingress', 'dispatcher'] });
  const dispatched = async (jobs: number): Promise<void> => {
    const until = Date.now() + 20_000;
    while ((await waitingJobs(ctx.redis, keys.bullPrefix, queues)) < jobs && Date.now() < until) await sleep(50);
  };
  const m0 = await settledMemory(ctx.redis);
  await postEvents(`${front.url}/webhooks/${name}`, events, PAYLOAD_BYTES, POST_CONNECTIONS);
  await dispatched(events * destinations);
  const m1 = await settledMemory(ctx.redis);
  await postEvents(`${front.url}/webhooks/${name}`, events, LARGE, POST_CONNECTIONS);
  await dispatched(2 * events * destinations);
  const m2 = await settledMemory(ctx.redis);
  await front.stop();
  await cleanRedis(ctx.redis, prefix);
  const smallGrowth = (m1 - m0) / events;
  const largeGrowth = (m2 - m1) / events;
  return { inFlightPerEvent: smallGrowth, payloadCopies: (largeGrowth - smallGrowth) / (LARGE - PAYLOAD_BYTES) };
}

interface SettleOptions {
  readonly queues: readonly string[];
  /** Whether every event's deliveries have settled, from the sink's counts and the queues'. */
  readonly done: (counts: QueueCounts) => boolean;
}

/**
 * The whole pipeline (ingress and dispatcher in one process, the worker in another) takes
 * `events` 1 KB events; once they have settled (no job waiting, active or delayed, no delivery
 * open) memory is read with the processes still running, as it was before the first POST.
 * Then the processes stop and the run's keys are deleted kind by kind.
 */
async function measureSettled(ctx: BenchContext, name: string, flowsPath: string, events: number, { queues, done }: SettleOptions): Promise<SettledRun> {
  const prefix = ctx.newPrefix(name);
  const keys = createKeys(prefix);
  const common = { node: ctx.node.path, mainScript: ctx.mainScript, redisUrl: ctx.redisUrl, flowsPath, prefix };
  const processes: ServiceProcess[] = await Promise.all([startService({ ...common, roles: ['ingress', 'dispatcher'] }), startService({ ...common, roles: ['worker'] })]);
  ctx.sink.reset();
  const m0 = await settledMemory(ctx.redis);
  await postEvents(`${processes[0]!.url}/webhooks/${name}`, events, PAYLOAD_BYTES, POST_CONNECTIONS);
  // A loaded machine may take long; only a run that stops moving for a minute is stuck.
  let progress = '';
  let stuckAfter = Date.now() + STUCK_MS;
  const settled = async (): Promise<QueueCounts | undefined> => {
    const counts = await queueCounts(ctx.redis, keys.bullPrefix, queues);
    const open = await ctx.redis.zcard(keys.partitions[0]!.openDeliveries);
    const now = JSON.stringify([counts, open, ctx.sink.total()]);
    if (now !== progress) [progress, stuckAfter] = [now, Date.now() + STUCK_MS];
    return done(counts) && counts.wait + counts.active + counts.delayed === 0 && open === 0 ? counts : undefined;
  };
  let counts: QueueCounts | undefined;
  while (!(counts = await settled())) {
    if (Date.now() > stuckAfter) throw new Error(`memory: ${name}'s ${events} events stopped settling for ${STUCK_MS / 1_000} s (${progress})`);
    await sleep(100);
  }
  const m1 = await settledMemory(ctx.redis);
  await Promise.all(processes.map((p) => p.stop()));
  const bytes = await memoryByDeletion(ctx.redis, keyKinds(keys));
  await cleanRedis(ctx.redis, prefix);
  const per = (kind: keyof MemoryParts): number => bytes[kind] / events;
  const parts: MemoryParts = { bullJobs: per('bullJobs'), bullEvents: per('bullEvents'), attemptLogs: per('attemptLogs'), deadLetterCopies: per('deadLetterCopies'), records: per('records'), stream: per('stream'), rest: per('rest') };
  return { events, perEvent: (m1 - m0) / events, parts, queues: counts };
}
