import { recordDispatches, type DeliveryStatus, type DispatchMode } from '@fanout/delivery';
import { encodeEventEntry, holdDispatchLease, releaseDispatchLease } from '@fanout/event-log';
import { deleteKeysUnder, type FanoutKeys } from '@fanout/redis';
import { newEventId } from '@fanout/core';
import type { Destination, Flow } from '@fanout/flows';
import { deliveryJob, deliveryQueueName, openDeliveryQueue, type DeliveryJob } from '@fanout/queues';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';

/** Redis's data memory: used_memory without the cached Lua scripts (they come with the first use of each script). */
export async function dataMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return field('used_memory') - field('used_memory_scripts');
}

/** used_memory at rest: the lowest of a few readings, so a client's passing buffer does not count. */
export async function settledMemory(redis: Redis): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    await sleep(100);
    readings.push(await dataMemory(redis));
  }
  return Math.min(...readings);
}

export async function usedMemoryRss(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory_rss:(\d+)/m.exec(info)?.[1] ?? 0);
}

/** CPU time (user + system) the redis-server process has used, in ms: INFO's used_cpu_user and used_cpu_sys. */
export async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const seconds = (name: string): number => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000;
}

/** Jobs waiting in the queues (BullMQ's wait lists). */
export async function waitingJobs(redis: Redis, bullPrefix: string, queues: readonly string[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const queue of queues) pipeline.llen(`${bullPrefix}:${queue}:wait`);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, length]) => sum + Number(length ?? 0), 0);
}

/** Jobs per state summed over the queues, the length of their BullMQ events streams, and the cap BullMQ's meta gives those streams. */
export interface QueueCounts {
  readonly wait: number;
  readonly active: number;
  readonly delayed: number;
  readonly completed: number;
  readonly failed: number;
  /** Entries of the queues' event streams (`<queue>:events`). */
  readonly events: number;
  /** The events streams' approximate cap (`opts.maxLenEvents` in the queue's meta hash); NaN before the queue was used. */
  readonly eventsMaxLen: number;
}

export async function queueCounts(redis: Redis, bullPrefix: string, queues: readonly string[]): Promise<QueueCounts> {
  const pipeline = redis.pipeline();
  for (const queue of queues) {
    const key = (part: string): string => `${bullPrefix}:${queue}:${part}`;
    pipeline.llen(key('wait')).llen(key('active')).zcard(key('delayed')).zcard(key('completed')).zcard(key('failed')).xlen(key('events')).hget(key('meta'), 'opts.maxLenEvents');
  }
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return Number(value ?? Number.NaN);
  });
  const column = (i: number): number => queues.reduce((sum, _, q) => sum + replies[q * 7 + i]!, 0);
  return { wait: column(0), active: column(1), delayed: column(2), completed: column(3), failed: column(4), events: column(5), eventsMaxLen: replies[6] ?? Number.NaN };
}

/** One kind of key, by SCAN pattern (a key's exact name is a pattern too). */
export interface KeyKind<Name extends string = string> {
  readonly name: Name;
  readonly pattern: string;
}

/** Deletes the keys matching `pattern`; DEL rather than UNLINK, so their memory is freed before it returns. */
export async function deleteKeysMatching(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * What each kind of key holds in Redis's used_memory: the kinds are deleted one after the
 * other, in the order given (a key matching two kinds counts for the first), with the settled
 * memory read before and after each. It destroys what it measures: run it once the processes
 * using these keys have stopped.
 */
export async function memoryByDeletion<Name extends string>(redis: Redis, kinds: readonly KeyKind<Name>[]): Promise<Record<Name, number>> {
  const bytes = {} as Record<Name, number>;
  let before = await settledMemory(redis);
  for (const { name, pattern } of kinds) {
    await deleteKeysMatching(redis, pattern);
    const after = await settledMemory(redis);
    bytes[name] = before - after;
    before = after;
  }
  return bytes;
}

/**
 * Deletes a scenario's keys and compacts the AOF while it is small, so that no AOF rewrite
 * (a fork) lands in a later measurement.
 */
export async function cleanRedis(redis: Redis, prefix: string): Promise<void> {
  await deleteKeysUnder(redis, prefix);
  await redis.bgrewriteaof().catch(() => {});
  for (let i = 0; i < 200; i++) {
    const info = await redis.info('persistence');
    if (/^aof_rewrite_in_progress:0/m.test(info) && /^aof_rewrite_scheduled:0/m.test(info)) return;
    await sleep(50);
  }
}

/** Events appended as the ingress appends them (stream entry only), in pipelined chunks; returns their ids. */
export async function appendEvents(redis: Redis, keys: FanoutKeys, flow: string, count: number, body: (i: number) => Buffer): Promise<{ eventId: string; streamId: string; receivedAt: number }[]> {
  const appended: { eventId: string; streamId: string; receivedAt: number }[] = [];
  for (let from = 0; from < count; from += 1_000) {
    const pipeline = redis.pipeline();
    const chunk: { eventId: string; receivedAt: number }[] = [];
    for (let i = from; i < Math.min(count, from + 1_000); i++) {
      const entry = { id: newEventId(), flow, receivedAt: Date.now(), contentType: 'application/json', body: body(i) };
      chunk.push({ eventId: entry.id, receivedAt: entry.receivedAt });
      pipeline.xadd(keys.partitionOf(entry.id).stream, '*', ...encodeEventEntry(entry));
    }
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, streamId], i) => {
      if (error) throw error;
      appended.push({ ...chunk[i]!, streamId: String(streamId) });
    });
  }
  return appended;
}

/** An event as the dispatcher plans its jobs. */
export interface QueuedEvent {
  readonly eventId: string;
  readonly streamId: string;
  readonly receivedAt: number;
  /** Its line, at an ordered destination. */
  readonly line?: string;
}

/** The BullMQ queue of every destination of the flow, on `connection`. */
export interface FlowQueues {
  readonly flow: Flow;
  readonly queues: readonly { readonly destination: Destination; readonly queue: Queue<DeliveryJob> }[];
}

export function flowQueues(connection: Redis, bullPrefix: string, flow: Flow): FlowQueues {
  return { flow, queues: flow.destinations.map((destination) => ({ destination, queue: openDeliveryQueue(deliveryQueueName(flow.name, destination.name), connection, bullPrefix) })) };
}

/** The jobs the dispatcher would create for these events, the same data and options: one addBulk per queue, the queues in parallel. */
export async function addEventJobs({ flow, queues }: FlowQueues, events: readonly QueuedEvent[]): Promise<void> {
  await Promise.all(
    queues.map(({ destination, queue }) =>
      queue.addBulk(
        events.map(({ eventId, streamId, receivedAt, line }) => deliveryJob(destination, { eventId, streamId, flow: flow.name, receivedAt, ...(line === undefined ? {} : { line }) })),
      ),
    ),
  );
}

/** The delivery jobs the dispatcher would create for these events, added straight into the destination queues. */
export async function addDeliveryJobs(connection: Redis, keys: FanoutKeys, flow: Flow, events: readonly QueuedEvent[]): Promise<void> {
  const target = flowQueues(connection, keys.bullPrefix, flow);
  for (let from = 0; from < events.length; from += 1_000) await addEventJobs(target, events.slice(from, from + 1_000));
  await Promise.all(target.queues.map(({ queue }) => queue.close()));
}

/**
 * The delivery records the dispatcher writes for these events (one per destination), as it
 * writes them before their jobs: pending, or at an ordered destination a place in the line
 * `lineOf` names (held behind the first). Answers each event's statuses, by destination.
 */
export async function recordDeliveries(
  redis: Redis,
  keys: FanoutKeys,
  flow: Flow,
  events: readonly QueuedEvent[],
  recordTtlMs: number,
  lineOf?: (event: QueuedEvent, destination: Destination) => string,
): Promise<Map<string, DeliveryStatus>[]> {
  const partition = keys.partitions[0]!;
  const leaseToken = 'bench-records';
  if (!(await holdDispatchLease(redis, partition, leaseToken, 60_000))) throw new Error('a dispatcher holds the partition: recordDeliveries writes as one, with no other running');
  const statuses: Map<string, DeliveryStatus>[] = [];
  for (let from = 0; from < events.length; from += 1_000) {
    const chunk = events.slice(from, from + 1_000).map((event) => {
      const modes = flow.destinations.map((destination): [string, DispatchMode] => [destination.name, lineOf ? { line: lineOf(event, destination) } : 'queued']);
      return { eventId: event.eventId, streamId: event.streamId, receivedAt: event.receivedAt, flow: flow.name, destinations: new Map(modes) };
    });
    statuses.push(...(await recordDispatches(redis, partition, chunk, { recordTtlMs, now: Date.now(), leaseToken })));
  }
  await releaseDispatchLease(redis, partition, leaseToken);
  return statuses;
}

/** Calls and CPU time Redis spent per command (INFO commandstats), to see what an operation costs Redis. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

export async function commandStats(redis: Redis): Promise<CommandStats> {
  const info = await redis.info('commandstats');
  const stats: CommandStats = new Map();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  return stats;
}

/** What Redis did between two readings, per unit of work (a job, a delivery), heaviest first. */
export interface CommandCost {
  readonly command: string;
  /** Calls per unit. */
  readonly calls: number;
  /** Redis CPU microseconds per unit. */
  readonly usec: number;
}

export function commandCostPer(before: CommandStats, after: CommandStats, units: number): CommandCost[] {
  const out: CommandCost[] = [];
  for (const [command, { calls, usec }] of after) {
    const was = before.get(command) ?? { calls: 0, usec: 0 };
    if (calls > was.calls) out.push({ command, calls: (calls - was.calls) / units, usec: (usec - was.usec) / units });
  }
  return out.sort((a, b) => b.usec - a.usec);
}
