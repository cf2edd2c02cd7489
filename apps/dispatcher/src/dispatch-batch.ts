import type { FanoutMetrics, Logger } from '@fanout/observability';
import { ackEvents, readDeliveryRecord, writeInitialDeliveryRecords, type FanoutKeys, type StreamBatch } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { dispatchEvent, type DispatchEventDeps, type EventDispatch, type JobQueue, type PlannedDelivery } from './dispatch-event.js';

type Dispatch = Extract<EventDispatch, { kind: 'dispatch' }>;
type Undispatchable = Extract<EventDispatch, { kind: 'undispatchable' }>;

export interface DispatchBatchDeps extends DispatchEventDeps {
  /** A connection for non-blocking commands: delivery records and XACK. */
  readonly writer: Redis;
  readonly keys: FanoutKeys;
  readonly metrics: Pick<FanoutMetrics, 'dispatchedJobs' | 'deliveries'>;
  readonly logger: Logger;
}

/** Stream ids of a batch: acknowledged, or left pending to be claimed and dispatched again. */
export interface BatchResult {
  readonly acked: readonly string[];
  readonly unacked: readonly string[];
}

/**
 * Dispatches a batch of stream entries: first the delivery records (one pipeline), then the
 * jobs (one `addBulk` per queue, in parallel), then XACK. Records come first so that a
 * worker that finishes a job at once never has its outcome overwritten by `pending`; the
 * ack comes last so that an entry is only let go once all its jobs exist. A crash between
 * the steps leaves the entry pending: it is claimed and dispatched again, and the records
 * (HSETNX) and jobs (job id = event id) it already has are left as they are; a delivery
 * whose record a worker has moved on from `pending` gets no job at all.
 *
 * An entry that can never be dispatched (malformed, or its flow is no longer loaded) is
 * logged and acknowledged, so it does not come back on every claim.
 * Throws when Redis fails; the entries not acknowledged by then stay pending.
 */
export async function dispatchBatch(deps: DispatchBatchDeps, batch: StreamBatch): Promise<BatchResult> {
  const { writer, keys, logger } = deps;
  const now = Date.now();
  const dispatches: Dispatch[] = [];
  const undispatchable: Undispatchable[] = batch.malformed.map(({ streamId, error }) => ({ kind: 'undispatchable', streamId, reason: `malformed stream entry: ${error.message}` }));
  for (const event of batch.events) {
    const dispatch = dispatchEvent(event, deps, now);
    if (dispatch.kind === 'dispatch') dispatches.push(dispatch);
    else undispatchable.push(dispatch);
  }
  for (const { streamId, eventId, flow, reason } of undispatchable) logger.error({ streamId, eventId, flow, reason }, 'event.undispatchable');

  await writeDeliveryRecords(writer, keys, dispatches);
  const pending = await withPendingDeliveries(writer, keys, dispatches);
  const failedQueues = await addJobs(logger, pending.flatMap(({ deliveries }) => deliveries));
  const [created, unacked] = partition(pending, ({ deliveries }) => deliveries.every(({ queue }) => !failedQueues.has(queue)));
  const acked = [...undispatchable, ...created].map(({ streamId }) => streamId);
  await ackEvents(writer, keys, acked);

  for (const { flow, deliveries, filtered } of created) {
    for (const { job } of deliveries) deps.metrics.dispatchedJobs.inc({ flow, destination: job.data.destination });
    for (const destination of filtered) deps.metrics.deliveries.inc({ flow, destination, outcome: 'filtered' });
  }
  return { acked, unacked: unacked.map(({ streamId }) => streamId) };
}

async function writeDeliveryRecords(writer: Redis, keys: FanoutKeys, dispatches: readonly Dispatch[]): Promise<void> {
  if (dispatches.length === 0) return;
  const pipeline = writer.pipeline();
  for (const { eventId, records } of dispatches) writeInitialDeliveryRecords(pipeline, keys, eventId, records);
  // A pipeline resolves even when commands fail; each reply carries its own error.
  const failure = (await pipeline.exec())?.find(([error]) => error)?.[0];
  if (failure) throw failure;
}

/**
 * Keeps the deliveries whose record is still `pending`. A record a worker has moved on
 * (delivered, retrying, dead) belongs to a job that ran: BullMQ may already have removed
 * it (it keeps only the newest completed jobs), and the job id alone would not stop a
 * claimed entry from creating it again.
 */
async function withPendingDeliveries(writer: Redis, keys: FanoutKeys, dispatches: readonly Dispatch[]): Promise<Dispatch[]> {
  return Promise.all(
    dispatches.map(async (dispatch) => {
      const records = await Promise.all(dispatch.deliveries.map(({ job }) => readDeliveryRecord(writer, keys, dispatch.eventId, job.data.destination)));
      // No record at all (the event record expired meanwhile): create the job rather than risk losing the delivery.
      return { ...dispatch, deliveries: dispatch.deliveries.filter((_, i) => (records[i]?.status ?? 'pending') === 'pending') };
    }),
  );
}

/** Adds the jobs, one `addBulk` per queue; returns the queues whose jobs may not all exist. */
async function addJobs(logger: Logger, deliveries: readonly PlannedDelivery[]): Promise<Set<JobQueue>> {
  const byQueue = new Map<JobQueue, PlannedDelivery['job'][]>();
  for (const { queue, job } of deliveries) {
    const jobs = byQueue.get(queue) ?? [];
    jobs.push(job);
    byQueue.set(queue, jobs);
  }
  const failed = new Set<JobQueue>();
  await Promise.all(
    [...byQueue].map(async ([queue, jobs]) => {
      try {
        await queue.addBulk(jobs);
      } catch (error) {
        failed.add(queue);
        logger.error({ err: error, queue: queue.name, eventIds: jobs.map(({ data }) => data.eventId) }, 'dispatch.jobs_failed');
      }
    }),
  );
  return failed;
}

function partition<T>(items: readonly T[], predicate: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (predicate(item) ? yes : no).push(item);
  return [yes, no];
}
