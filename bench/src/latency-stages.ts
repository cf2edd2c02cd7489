import { performance } from 'node:perf_hooks';
import { deliveryQueueName } from '@fanout/queues';
import { decodeEventRecord, type DeliveryRecord } from '@fanout/delivery';
import { createKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { summarizeLatencies, type LatencySummary } from './stats.js';

/**
 * Where a delivery's latency went, from the records fanout keeps: the event's `receivedAt`
 * (stamped by the ingress before its write) and the first attempt's start (stamped by the
 * worker), and the delivery job's creation time while BullMQ still keeps the job (the newest
 * completed ones). Every process runs on this machine's clock, so no clocks need syncing; fanout's
 * stamps are whole ms, so a stage can read up to 1 ms off.
 */
export interface LatencyStages {
  /** Sent by the bench → taken in by the ingress. */
  readonly accept: LatencySummary;
  /** Taken in → the worker starts the first attempt: the stream, the dispatcher and the queue. */
  readonly toWorker: LatencySummary;
  /** The attempt starts → first byte at the sink: the worker's reads and the POST. */
  readonly send: LatencySummary;
  /** Of `toWorker`, taken in → the delivery's job created: only over the deliveries whose job BullMQ still keeps (the newest completed). */
  readonly dispatch: LatencySummary;
}

/** One delivery that arrived: its event, its flow and destination, and the bench's `performance.now()` at send and arrival. */
export interface TimedDelivery {
  readonly eventId: string;
  readonly flow: string;
  readonly destination: string;
  readonly sentAt: number;
  readonly arrivedAt: number;
}

/** When a delivery's first attempt started: its attempt log's first entry, or for one delivered at once (no log), its record's time less its duration. */
function firstAttemptStart(record: DeliveryRecord | undefined, firstLogged: string | null): number | undefined {
  if (firstLogged) return (JSON.parse(firstLogged) as { at: number }).at;
  if (!record) return undefined;
  const { status, at, durationMs = 0 } = record;
  return status === 'delivered' ? at - durationMs : undefined;
}

export async function readLatencyStages(redis: Redis, prefix: string, deliveries: readonly TimedDelivery[]): Promise<LatencyStages> {
  const keys = createKeys(prefix);
  const pipeline = redis.pipeline();
  for (const { eventId, flow, destination } of deliveries) {
    const partition = keys.partitionOf(eventId);
    pipeline.hget(partition.eventRecords(eventId), eventId);
    pipeline.lindex(partition.attempts(eventId, destination), 0);
    // BullMQ's job hash: <prefix>:<queue>:<job id>; the queue is <flow>.<destination>, the job id the event id.
    pipeline.hget(`${keys.bullPrefix}:${deliveryQueueName(flow, destination)}:${eventId}`, 'timestamp');
  }
  const replies = (await pipeline.exec()) ?? [];
  const accept: number[] = [];
  const toWorker: number[] = [];
  const send: number[] = [];
  const dispatch: number[] = [];
  deliveries.forEach(({ eventId, destination, sentAt, arrivedAt }, i) => {
    // fanout stamps Unix ms; the bench's clock starts at its timeOrigin.
    const [event, attempt, created] = replies.slice(3 * i, 3 * i + 3).map(([, reply]) => reply);
    if (typeof event !== 'string') return;
    const record = decodeEventRecord(eventId, event);
    const receivedAt = record.receivedAt - performance.timeOrigin;
    const firstStart = firstAttemptStart(record.deliveries.find((delivery) => delivery.destination === destination), typeof attempt === 'string' ? attempt : null);
    if (!Number.isFinite(receivedAt) || firstStart === undefined) return;
    const startedAt = firstStart - performance.timeOrigin;
    accept.push(receivedAt - sentAt);
    toWorker.push(startedAt - receivedAt);
    send.push(arrivedAt - startedAt);
    if (typeof created === 'string') dispatch.push(Number(created) - performance.timeOrigin - receivedAt);
  });
  return { accept: summarizeLatencies(accept), toWorker: summarizeLatencies(toWorker), send: summarizeLatencies(send), dispatch: summarizeLatencies(dispatch) };
}
