import { deliveryQueueName, openDeliveryQueue } from '@fanout/queues';
import { attemptsOf, readAttempts, readEventRecord, type DeliveryStatus } from '@fanout/delivery';
import { createKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import type { RecordedAttempts } from './checker.js';
import { matches, type DestinationSpec } from './flow-file.js';
import type { SendOutcome } from './load-generator.js';

/**
 * What can be seen from outside of "no job created twice for one (event, destination)", and
 * of "every delivery ends where its attempts say".
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
  readonly flow: string;
  readonly destination: string;
  readonly jobsInspected: number;
  readonly recreatedJobs: number;
  readonly attemptRegressions: number;
  /** Attempts in the attempt logs, all deliveries together. */
  readonly recordedAttempts: number;
  /** The delivery records' statuses of the events inspected: every acked one meant for this destination and every one it received. */
  readonly statuses: Partial<Record<DeliveryStatus | 'missing', number>>;
  /**
   * False dead letters: deliveries of events meant for this destination, poison ones
   * excepted (the destination took every other one), whose record says `dead` or whose job
   * is in the queue's failed set. Must be 0.
   */
  readonly falseDeadLetters: number;
  /** Acked events meant for this destination, poison ones excepted, whose delivery record does not say `delivered` once settled. Must be 0. */
  readonly undeliveredRecords: number;
  /** Members of the open-deliveries set for this destination once settled: each holds back the stream trim. Must be 0. */
  readonly stuckOpen: number;
}

export interface InspectInput {
  readonly redis: Redis;
  readonly prefix: string;
  readonly flow: string;
  readonly destinations: readonly DestinationSpec[];
  readonly outcomes: ReadonlyMap<number, SendOutcome>;
  readonly types: ReadonlyMap<number, string>;
  /** As the checker's: whether the event of `seq` is meant for the destination. Default: its filter takes the event's type. */
  readonly meantFor?: (destination: DestinationSpec, seq: number) => boolean;
  /** Per destination, the sequence numbers it refuses for good: dead letters by design. */
  readonly poison?: ReadonlyMap<string, ReadonlySet<number>>;
  /** The webhook-ids the destination received (events in doubt, unexpected ones), inspected too. */
  readonly receivedIds: (destination: string) => Iterable<string>;
}

const CHUNK = 500;
const MAX_EXAMPLES = 12;

export interface Inspection {
  readonly destinations: JobCounters[];
  /** Per destination, per event id: the attempts recorded in its attempt log, and the failed ones among them. */
  readonly recordedAttempts: Map<string, Map<string, RecordedAttempts>>;
  /** The stream id of every event inspected whose record was found: its ingest order. */
  readonly streamIds: Map<string, string>;
  readonly examples: string[];
}

/** Open deliveries per destination, every partition together (a member is `<event id>:<destination>`). */
async function openByDestination(redis: Redis, prefix: string): Promise<Map<string, string[]>> {
  const byDestination = new Map<string, string[]>();
  for (const partition of createKeys(prefix).partitions) {
    for (const member of await redis.zrange(partition.openDeliveries, 0, -1)) {
      const colon = member.lastIndexOf(':');
      const destination = member.slice(colon + 1);
      let list = byDestination.get(destination);
      if (!list) byDestination.set(destination, (list = []));
      list.push(member.slice(0, colon));
    }
  }
  return byDestination;
}

export async function inspectJobs(input: InspectInput): Promise<Inspection> {
  const attemptsByEvent = new Map<string, Map<string, RecordedAttempts>>();
  const streamIds = new Map<string, string>();
  const keys = createKeys(input.prefix);
  const examples: string[] = [];
  const example = (text: string): void => void (examples.length < MAX_EXAMPLES && examples.push(text));
  const results: JobCounters[] = [];
  const open = await openByDestination(input.redis, input.prefix);
  for (const destination of input.destinations) {
    const queue = openDeliveryQueue(deliveryQueueName(input.flow, destination.name), input.redis, keys.bullPrefix);
    const poison = input.poison?.get(destination.name) ?? new Set<number>();
    const meantFor = (seq: number): boolean => (input.meantFor ? input.meantFor(destination, seq) : matches(destination, input.types.get(seq) ?? ''));
    const wanted = new Set<string>();
    /** The acked events that must end delivered here. */
    const expected = new Set<string>();
    /** Every event id of a poison seq, whatever its outcome: dead letters by design. */
    const poisonIds = new Set<string>();
    for (const [seq, outcome] of input.outcomes) {
      if (outcome.kind !== 'acked' || !meantFor(seq)) continue;
      wanted.add(outcome.id);
      if (poison.has(seq)) poisonIds.add(outcome.id);
      else expected.add(outcome.id);
    }
    for (const id of input.receivedIds(destination.name)) if (id !== '') wanted.add(id);
    const failedJobs = new Set((await queue.getFailed(0, -1)).map((job) => job.id ?? ''));
    const ids = [...wanted];
    let jobsInspected = 0;
    let recreatedJobs = 0;
    let attemptRegressions = 0;
    let recordedAttempts = 0;
    let falseDeadLetters = 0;
    let undeliveredRecords = 0;
    const statuses: Partial<Record<DeliveryStatus | 'missing', number>> = {};
    const recordedByEvent = new Map<string, RecordedAttempts>();
    attemptsByEvent.set(destination.name, recordedByEvent);
    for (let start = 0; start < ids.length; start += CHUNK) {
      await Promise.all(
        ids.slice(start, start + CHUNK).map(async (id) => {
          const partition = keys.partitionOf(id);
          const [event, log, job] = await Promise.all([readEventRecord(input.redis, partition, id), readAttempts(input.redis, partition, id, destination.name), queue.getJob(id)]);
          if (event) streamIds.set(id, event.streamId);
          const record = event?.deliveries.find((delivery) => delivery.destination === destination.name);
          const status = record?.status ?? 'missing';
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (!poisonIds.has(id) && (status === 'dead' || failedJobs.has(id))) {
            falseDeadLetters += 1;
            example(`${input.flow}/${destination.name}: ${id} dead-lettered (record ${status}, job ${failedJobs.has(id) ? `failed: ${job?.failedReason ?? '?'}` : 'not failed'})`);
          }
          if (expected.has(id) && status !== 'delivered') {
            undeliveredRecords += 1;
            example(`${input.flow}/${destination.name}: ${id} record ${status}${record ? ` after ${record.attempts} attempts` : ''}, expected delivered`);
          }
          // An attempt a fault cut short is logged as interrupted: its outcome was never recorded.
          const attempts = (record ? attemptsOf(record, log) : log).filter((attempt) => attempt.outcome !== 'interrupted');
          recordedAttempts += attempts.length;
          recordedByEvent.set(id, { total: attempts.length, failed: attempts.filter((attempt) => attempt.outcome !== 'delivered').length });
          if (attempts.some((attempt, i) => i > 0 && attempt.attempt < attempts[i - 1]!.attempt)) {
            attemptRegressions += 1;
            example(`${input.flow}/${destination.name}: ${id} attempt log ${attempts.map((a) => `${a.attempt}:${a.outcome}`).join(',')}`);
          }
          if (!job) return;
          jobsInspected += 1;
          const first = attempts[0];
          if (first && job.timestamp > first.at) {
            recreatedJobs += 1;
            example(`${input.flow}/${destination.name}: job ${id} created at ${job.timestamp}, after the attempt of ${first.at}`);
          }
        }),
      );
    }
    await queue.close();
    const stuck = open.get(destination.name) ?? [];
    if (stuck.length > 0) example(`${input.flow}/${destination.name}: ${stuck.length} deliveries still open, e.g. ${stuck.slice(0, 3).join(', ')}`);
    results.push({ flow: input.flow, destination: destination.name, jobsInspected, recreatedJobs, attemptRegressions, recordedAttempts, statuses, falseDeadLetters, undeliveredRecords, stuckOpen: stuck.length });
  }
  return { destinations: results, recordedAttempts: attemptsByEvent, streamIds, examples };
}
