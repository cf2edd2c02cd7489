import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { decodeLineHead, type LineHead } from './transitions.js';

/** A line and its first delivery, as the sweep of stuck lines finds them. */
export interface IdleLine {
  /** The line's name (orderLineName): `<queue>:<key digest>`. */
  readonly line: string;
  /** The queue of its destination. */
  readonly queue: string;
  readonly head: LineHead;
}

/**
 * The lines of `queues` that have not moved for `idleMs` (no delivery joined or left), with
 * their first delivery, at most `limit`; each is marked as moved now, so the next sweep
 * passes it by for `idleMs`. A line whose first delivery's job was lost (a worker died
 * between settling one delivery and making the next one's job, and BullMQ then failed the
 * job by itself) would wait forever: the sweep makes sure that delivery has a job.
 */
export async function takeIdleLines(redis: Redis, partition: PartitionKeys, queues: ReadonlySet<string>, idleMs: number, now: number, limit = 100): Promise<IdleLine[]> {
  const prefix = partition.line('');
  const named = (await redis.zrangebyscore(partition.lines, '-inf', now - idleMs, 'LIMIT', 0, limit)).map((key) => {
    const line = key.slice(prefix.length);
    return { key, line, queue: line.slice(0, line.lastIndexOf(':')) };
  });
  const ours = named.filter(({ queue }) => queues.has(queue));
  if (ours.length === 0) return [];
  const heads = await Promise.all(ours.map(({ key }) => redis.lindex(key, 0)));
  await redis.zadd(partition.lines, 'XX', ...ours.flatMap(({ key }) => [now, key]));
  return ours.flatMap(({ line, queue }, i) => {
    const head = decodeLineHead(heads[i]);
    return head ? [{ line, queue, head }] : [];
  });
}

/** The first delivery of a line, undefined when nothing waits in it. */
export async function readLineHead(redis: Redis, partition: PartitionKeys, line: string): Promise<LineHead | undefined> {
  return decodeLineHead(await redis.lindex(partition.line(line), 0));
}

/** Whether any line of this destination queue has deliveries waiting (a retiring destination is drained only once none has). */
export async function hasWaitingLines(redis: Redis, partition: PartitionKeys, queue: string): Promise<boolean> {
  // Queue names are [a-z0-9.-]; the prefix, [a-zA-Z0-9_-] and the `{…}` tag: none is special in a MATCH pattern.
  const pattern = `${partition.line(`${queue}:`)}*`;
  let cursor = '0';
  do {
    const [next, members] = await redis.zscan(partition.lines, cursor, 'MATCH', pattern, 'COUNT', 1_000);
    if (members.length > 0) return true;
    cursor = next;
  } while (cursor !== '0');
  return false;
}
