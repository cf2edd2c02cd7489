import { deliveryQueueName, openDeliveryQueue } from '@fanout/queues';
import { attemptsOf, readAttempts, readDeliveryRecord, type DeliveryStatus } from '@fanout/delivery';
import { createKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import type { RecordedAttempts } from './checker.js';
import { matches, type DestinationSpec } from './flow-file.js';
import type { SendOutcome } from './load-generator.js';

/**
 * What can be seen from outside of "no job created twice for one (event, destination)".
 *
 * A delivery's job id is its event id within the destination's queue, so BullMQ itself
 * refuses a second job while the first exists; a second job can only appear after the
 * first was removed (completed jobs are trimmed). Such a job starts again from attempt 1.
 * Two traces are left, both read here after the run:
 * - `recreatedJobs`: the job in the queue was created after the delivery's first recorded
 *   attempt started (its `timestamp` is later than the attempt log's first `at`).
 * - `attemptRegressions`: the attempt log's attempt numbers go down (a job restarting at 1).
 *   A repeat of the same attempt (a worker killed mid-attempt, a lock lost) repeats its
 *   number and is not a regression.
 * Jobs BullMQ has already trimmed cannot be inspected; `jobsInspected` says how many were.
 */
export interface JobCounters {
  readonly destination: string;
  readonly jobsInspected: number;
  readonly recreatedJobs: number;
  readonly attemptRegressions: number;
  /** Attempts in the attempt logs, all deliveries together. */
  readonly recordedAttempts: number;
  /** The delivery records' statuses of the events inspected: every acked one meant for this destination and every one it received. */
  readonly statuses: Partial<Record<DeliveryStatus | 'missing', number>>;
}

export interface InspectInput {
  readonly redis: Redis;
  readonly prefix: string;
  readonly flow: string;
  readonly destinations: readonly DestinationSpec[];
  readonly outcomes: ReadonlyMap<number, SendOutcome>;
  readonly types: ReadonlyMap<number, string>;
  /** The webhook-ids the destination received (events in doubt, unexpected ones), inspected too. */
  readonly receivedIds: (destination: string) => Iterable<string>;
}

const CHUNK = 500;

export interface Inspection {
  readonly destinations: JobCounters[];
  /** Per destination, per event id: the attempts recorded in its attempt log, and the failed ones among them. */
  readonly recordedAttempts: Map<string, Map<string, RecordedAttempts>>;
  readonly examples: string[];
}

export async function inspectJobs(input: InspectInput): Promise<Inspection> {
  const attemptsByEvent = new Map<string, Map<string, RecordedAttempts>>();
  const keys = createKeys(input.prefix);
  const examples: string[] = [];
  const results: JobCounters[] = [];
  for (const destination of input.destinations) {
    const queue = openDeliveryQueue(deliveryQueueName(input.flow, destination.name), input.redis, keys.bullPrefix);
    const wanted = new Set<string>();
    for (const [seq, outcome] of input.outcomes) {
      if (outcome.kind === 'acked' && matches(destination, input.types.get(seq) ?? '')) wanted.add(outcome.id);
    }
    for (const id of input.receivedIds(destination.name)) if (id !== '') wanted.add(id);
    const ids = [...wanted];
    let jobsInspected = 0;
    let recreatedJobs = 0;
    let attemptRegressions = 0;
    let recordedAttempts = 0;
    const statuses: Partial<Record<DeliveryStatus | 'missing', number>> = {};
    const recordedByEvent = new Map<string, RecordedAttempts>();
    attemptsByEvent.set(destination.name, recordedByEvent);
    for (let start = 0; start < ids.length; start += CHUNK) {
      await Promise.all(
        ids.slice(start, start + CHUNK).map(async (id) => {
          const partition = keys.partitionOf(id);
          const [record, log, job] = await Promise.all([readDeliveryRecord(input.redis, partition, id, destination.name), readAttempts(input.redis, partition, id, destination.name), queue.getJob(id)]);
          const status = record?.status ?? 'missing';
          statuses[status] = (statuses[status] ?? 0) + 1;
          // An attempt a fault cut short is logged as interrupted: its outcome was never recorded.
          const attempts = (record ? attemptsOf(record, log) : log).filter((attempt) => attempt.outcome !== 'interrupted');
          recordedAttempts += attempts.length;
          recordedByEvent.set(id, { total: attempts.length, failed: attempts.filter((attempt) => attempt.outcome !== 'delivered').length });
          if (attempts.some((attempt, i) => i > 0 && attempt.attempt < attempts[i - 1]!.attempt)) {
            attemptRegressions += 1;
            if (examples.length < 12) examples.push(`${destination.name}: ${id} attempt log ${attempts.map((a) => `${a.attempt}:${a.outcome}`).join(',')}`);
          }
          if (!job) return;
          jobsInspected += 1;
          const first = attempts[0];
          if (first && job.timestamp > first.at) {
            recreatedJobs += 1;
            if (examples.length < 12) examples.push(`${destination.name}: job ${id} created at ${job.timestamp}, after the attempt of ${first.at}`);
          }
        }),
      );
    }
    await queue.close();
    results.push({ destination: destination.name, jobsInspected, recreatedJobs, attemptRegressions, recordedAttempts, statuses });
  }
  return { destinations: results, recordedAttempts: attemptsByEvent, examples };
}
