import { attemptsOf, deliveryOfJob, readAttempts, readDeliveryRecord, readEventPayload, readLastAttempt, replayJob, reportedStatus, type AttemptRecord, type DeliveryRecord, type DeliveryState } from '@fanout/delivery';
import type { Destination } from '@fanout/flows';
import type { DeliveryQueue } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import type { Job, JobState } from 'bullmq';
import type { Redis } from 'ioredis';
import { isoTime } from './iso-time.js';
import type { DestinationTarget } from './mask-flow.js';
import { OperatorRefusal } from './operator-refusal.js';
import { payloadPreview, type PayloadPreview } from './payload-preview.js';

/** What Bull Board's job actions need to know of one destination's queue. */
export interface OperatorQueue {
  /** The flow of its destination. */
  readonly flow: string;
  readonly queue: DeliveryQueue;
  readonly destination: Destination;
  /** Where the destination delivers, masked. */
  readonly target: DestinationTarget;
  readonly state: DeliveryState;
  /** Where delivery records and payloads are read. */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
}

/** What an operator sees of a delivery in Bull Board, read when its job is shown. */
interface DeliveryFacts {
  readonly record: DeliveryRecord | undefined;
  readonly lastAttempt: AttemptRecord | undefined;
  readonly payload: PayloadPreview | undefined;
}

async function readFacts({ redis, keys }: OperatorQueue, job: Job): Promise<DeliveryFacts | undefined> {
  const found = deliveryOfJob(job);
  if (!found.ok) return undefined;
  const { eventId, destination, streamId } = found.delivery;
  const partition = keys.partitionOf(eventId);
  const [record, lastAttempt, event] = await Promise.all([
    readDeliveryRecord(redis, partition, eventId, destination),
    readLastAttempt(redis, partition, eventId, destination),
    readEventPayload(redis, partition, eventId, streamId),
  ]);
  return { record, lastAttempt, payload: event && payloadPreview(event.contentType, event.body) };
}

/** An attempt on one line: its number, outcome, answer and time. */
export function describeAttempt({ attempt, at, outcome, statusCode, error, durationMs }: AttemptRecord): string {
  const parts = [`attempt ${attempt}`, isoTime(at), outcome, ...(statusCode === undefined || error?.startsWith('HTTP') ? [] : [`HTTP ${statusCode}`]), ...(error ? [error] : []), ...(durationMs === undefined ? [] : [`${durationMs} ms`])];
  return parts.join(' · ');
}

/** The job's data, and where its delivery stands, as Bull Board's Data and Error tabs show it. */
function operatorView(job: Job, { target }: OperatorQueue, facts: DeliveryFacts | undefined): { data: unknown; stacktrace: string[] } {
  if (!facts) return { data: job.data, stacktrace: job.stacktrace ?? [] };
  const { record, lastAttempt, payload } = facts;
  const delivery = record && { status: reportedStatus(record.status), attempts: record.attempts, ...(record.error ? { lastError: record.error } : {}), at: isoTime(record.at) };
  const data = { ...(job.data as object), target, ...(delivery ? { delivery } : {}), ...(payload ? { payload } : {}) };
  const failure = lastAttempt && lastAttempt.outcome !== 'delivered' ? [[describeAttempt(lastAttempt), lastAttempt.response].filter(Boolean).join('\n')] : [];
  return { data, stacktrace: failure };
}

const refuseEdit = (): never => {
  throw new OperatorRefusal('a delivery job points at a stored event and cannot be edited; replay the delivery instead', 400);
};

/** Actions that lose a queued delivery (its job would be gone, its record left waiting). */
const KEEPS_DELIVERIES: readonly (JobState | 'unknown')[] = ['completed', 'failed'];

/**
 * The job as Bull Board gets it: its actions mapped onto the delivery's transitions (Retry
 * replays the delivery, so it is sent again; Edit data is refused; Clean removes only a
 * finished job) and its JSON showing the delivery, not only BullMQ's view of the job.
 */
function operatorJob(job: Job, context: OperatorQueue, facts: DeliveryFacts | undefined): Job {
  const view = operatorView(job, context, facts);
  const overrides: Record<PropertyKey, unknown> = {
    async retry(state: 'failed' | 'completed' = 'failed') {
      const outcome = await replayJob(context.state, context.queue, job, state);
      if (outcome === 'not-replayable') throw new OperatorRefusal(`job ${job.id ?? ''} names no delivery that can be sent again (${facts?.record?.status ?? 'no delivery record'})`, 400);
      if (outcome === 'gone') throw new OperatorRefusal(`job ${job.id ?? ''} is no longer ${state}`);
    },
    async remove() {
      const state = await job.getState();
      if (!KEEPS_DELIVERIES.includes(state)) throw new OperatorRefusal(`job ${job.id ?? ''} is ${state}: removing it would lose its delivery; only finished jobs (completed, failed) can be cleaned`);
      await job.remove();
    },
    updateData: refuseEdit,
    update: refuseEdit,
    toJSON: () => ({ ...job.toJSON(), ...view }),
  };
  return new Proxy(job, {
    get(target, property) {
      if (property in overrides) return overrides[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Jobs as Bull Board gets them, each with its delivery's record, last attempt and payload read (together). */
export async function operatorJobs(context: OperatorQueue, jobs: readonly Job[]): Promise<Job[]> {
  const facts = await Promise.all(jobs.map((job) => readFacts(context, job)));
  return jobs.map((job, i) => operatorJob(job, context, facts[i]));
}

/** The delivery's attempts, one line each, for Bull Board's Logs tab. */
export async function attemptLines({ redis, keys, queue }: OperatorQueue, jobId: string): Promise<string[]> {
  const job = await queue.getJob(jobId);
  const found = job && deliveryOfJob(job);
  if (!found?.ok) return [];
  const { eventId, destination } = found.delivery;
  const partition = keys.partitionOf(eventId);
  const [record, log] = await Promise.all([readDeliveryRecord(redis, partition, eventId, destination), readAttempts(redis, partition, eventId, destination)]);
  if (!record) return [];
  const attempts = attemptsOf(record, log);
  return attempts.map((attempt) => [describeAttempt(attempt), attempt.response].filter(Boolean).join(' · '));
}
