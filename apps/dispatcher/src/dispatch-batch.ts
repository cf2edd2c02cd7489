import { recordDispatches } from '@fanout/delivery';
import { ackEvents, deadLetterEntries, type DispatchFailure, type StreamBatch } from '@fanout/event-log';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import type { DeliveryJobSpec } from '@fanout/queues';
import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { dispatchEvent, type DispatchEventDeps, type EventDispatch, type JobQueue, type PlannedDelivery } from './dispatch-event.js';

type Dispatch = Extract<EventDispatch, { kind: 'dispatch' }>;

/** How often an entry may be delivered to dispatchers (read, then claimed again) before it is dead-lettered. */
export const DEFAULT_MAX_DISPATCH_ATTEMPTS = 5;

export interface DispatchBatchDeps extends DispatchEventDeps {
  /** A connection for non-blocking commands: delivery records, jobs, dead letters and XACK; created with the event log's and the delivery scripts. */
  readonly writer: Redis;
  /** The partition of the event log dispatched. */
  readonly partition: PartitionKeys;
  readonly metrics: Pick<FanoutMetrics, 'dispatchedJobs' | 'deliveries'>;
  readonly logger: Logger;
  /**
   * How long event records live (FANOUT_EVENT_RETENTION), in ms. An event record that expired
   * before its entry was dispatched is written again with this ttl.
   */
  readonly eventRecordTtlMs: number;
  /**
   * An entry delivered to dispatchers this many times (XPENDING's delivery count: read once,
   * then claimed again) without being dispatched goes to the dispatcher dead letters.
   */
  readonly maxDispatchAttempts: number;
  /** The token of this dispatcher's lease on the partition: records are written only while it holds it. */
  readonly leaseToken: string;
}

/** Stream ids of a batch: dispatched and acknowledged, dead-lettered (and acknowledged), or left pending to be claimed again. */
export interface BatchResult {
  readonly acked: readonly string[];
  readonly deadLettered: readonly string[];
  readonly unacked: readonly string[];
}

interface Failure extends DispatchFailure {
  readonly eventId?: string;
  readonly flow?: string;
}

/** How a batch was read. */
export interface BatchReading {
  /** XPENDING's delivery count of claimed entries; absent ones were read once. */
  readonly deliveryCounts?: ReadonlyMap<string, number>;
}

/**
 * Dispatches a batch of stream entries: first the delivery records (one script for the
 * batch), then the jobs (one `addBulk` per queue, in parallel), then XACK. Records come
 * first so that a delivery is open (kept from the stream trim) before its job exists; the
 * ack comes last so that an entry is only let go once all its jobs exist. A crash between
 * the steps leaves the entry pending: it is claimed and dispatched again, and the records
 * (HSETNX) and jobs (job id = event id) it already has are left as they are.
 *
 * Jobs are added only where the record says pending once the records are written: an entry
 * may have been dispatched before, however it was read (claimed, or read as new by a group
 * that was lost and made again, by this dispatcher or another), and a delivery a worker moved
 * on may have had its job removed already (BullMQ keeps only the newest completed ones). That
 * saves a job, not a send: a worker sends only what the delivery's record allows.
 *
 * An entry that can never be dispatched (malformed, its flow no longer loaded) goes to the
 * dispatcher dead letters at once; one that was delivered to dispatchers more than
 * `maxDispatchAttempts` times, or whose jobs could not be created on the last of those, goes
 * there too, so it never comes back on every claim.
 *
 * Throws when Redis fails; the entries not acknowledged by then stay pending.
 */
export async function dispatchBatch(deps: DispatchBatchDeps, batch: StreamBatch, reading: BatchReading = {}): Promise<BatchResult> {
  return settleBatch(deps, await createBatchJobs(deps, batch, reading));
}

/** A batch whose jobs were created (or failed): what `settleBatch` acknowledges and dead-letters. */
export interface CreatedBatch {
  readonly created: readonly Dispatch[];
  readonly failures: readonly Failure[];
  readonly unacked: readonly string[];
  /** Unix ms, as the batch's records and dead letters say. */
  readonly now: number;
}

/**
 * `dispatchBatch`'s first part: the records and the jobs. The dispatch loop settles a batch
 * while it creates the next one's jobs, so an XACK costs no wait of its own.
 */
export async function createBatchJobs(deps: DispatchBatchDeps, batch: StreamBatch, { deliveryCounts }: BatchReading = {}): Promise<CreatedBatch> {
  const { maxDispatchAttempts } = deps;
  const now = Date.now();
  const countOf = (streamId: string): number => deliveryCounts?.get(streamId) ?? 1;
  const failures: Failure[] = batch.malformed.map(({ streamId, error }) => ({ streamId, reason: `malformed stream entry: ${error.message}`, deliveryCount: countOf(streamId) }));
  const dispatches: Dispatch[] = [];
  await deps.plans.prepare(batch.events);
  for (const event of batch.events) {
    const deliveryCount = countOf(event.streamId);
    const known = { streamId: event.streamId, eventId: event.entry.id, flow: event.entry.flow, deliveryCount };
    // Dispatching it crashed or hung every dispatcher that tried: trying again would too.
    if (deliveryCount > maxDispatchAttempts) {
      failures.push({ ...known, reason: `not dispatched in ${deliveryCount - 1} attempts: each dispatcher that read it failed, crashed or hung` });
      continue;
    }
    const dispatch = dispatchEvent(event, deps);
    if (dispatch.kind === 'dispatch') dispatches.push(dispatch);
    else failures.push({ ...known, reason: dispatch.reason });
  }

  const { pending, failedQueues } = await recordThenAddJobs(deps, dispatches, now);
  const created: Dispatch[] = [];
  const unacked: string[] = [];
  for (const dispatch of pending) {
    const error = dispatch.deliveries.map(({ queue }) => failedQueues.get(queue)).find((found) => found !== undefined);
    if (!error) created.push(dispatch);
    else if (countOf(dispatch.streamId) >= maxDispatchAttempts) {
      failures.push({ streamId: dispatch.streamId, eventId: dispatch.eventId, flow: dispatch.flow, deliveryCount: countOf(dispatch.streamId), reason: `jobs could not be created: ${error.message}` });
    } else unacked.push(dispatch.streamId);
  }
  return { created, failures, unacked, now };
}

/** `dispatchBatch`'s last part: the dead letters and the XACK of a batch whose jobs all exist, then its logs and metrics. */
export async function settleBatch(deps: DispatchBatchDeps, { created, failures, unacked, now }: CreatedBatch): Promise<BatchResult> {
  const { writer, partition, logger } = deps;
  const [deadLettered] = await Promise.all([deadLetterEntries(writer, partition, failures, now), ackEvents(writer, partition, created.map(({ streamId }) => streamId))]);

  for (const { streamId, eventId, flow, reason, deliveryCount } of failures) {
    if (deadLettered.includes(streamId)) logger.error({ streamId, eventId, flow, reason, deliveryCount }, 'dispatch.dead_lettered');
  }
  for (const { flow, deliveries, filtered } of created) {
    for (const { job } of deliveries) deps.metrics.dispatchedJobs.inc({ flow, destination: job.data.destination });
    for (const destination of filtered) deps.metrics.deliveries.inc({ flow, destination, outcome: 'filtered' });
  }
  return { acked: created.map(({ streamId }) => streamId), deadLettered, unacked };
}

interface CreatedJobs {
  /** The dispatches, each with only the deliveries that got a job. */
  readonly pending: readonly Dispatch[];
  /** The queues whose jobs may not all exist, with why. */
  readonly failedQueues: Map<JobQueue, Error>;
}

/** Writes the batch's first delivery records, then adds jobs only for the deliveries whose record is still pending. */
async function recordThenAddJobs(deps: DispatchBatchDeps, dispatches: readonly Dispatch[], now: number): Promise<CreatedJobs> {
  const statuses = await writeRecords(deps, dispatches, now);
  const pending = dispatches.map((dispatch, i) => ({ ...dispatch, deliveries: dispatch.deliveries.filter(({ job }) => statuses[i]?.get(job.data.destination) === 'pending') }));
  return { pending, failedQueues: await addJobs(deps.logger, pending.flatMap(({ deliveries }) => deliveries)) };
}

function writeRecords({ writer, partition, eventRecordTtlMs, leaseToken }: DispatchBatchDeps, dispatches: readonly Dispatch[], now: number): ReturnType<typeof recordDispatches> {
  return recordDispatches(writer, partition, dispatches, { recordTtlMs: eventRecordTtlMs, now, leaseToken });
}

/** Adds the jobs, one `addBulk` per queue; answers the queues whose jobs may not all exist, with why. */
async function addJobs(logger: Logger, deliveries: readonly PlannedDelivery[]): Promise<Map<JobQueue, Error>> {
  const byQueue = new Map<JobQueue, DeliveryJobSpec[]>();
  for (const { queue, job } of deliveries) {
    const jobs = byQueue.get(queue) ?? [];
    jobs.push(job);
    byQueue.set(queue, jobs);
  }
  const failed = new Map<JobQueue, Error>();
  await Promise.all(
    [...byQueue].map(async ([queue, jobs]) => {
      try {
        await queue.addBulk(jobs);
      } catch (error) {
        failed.set(queue, error instanceof Error ? error : new Error(String(error)));
        logger.error({ err: error, queue: queue.name, eventIds: jobs.map(({ data }) => data.eventId) }, 'dispatch.jobs_failed');
      }
    }),
  );
  return failed;
}
