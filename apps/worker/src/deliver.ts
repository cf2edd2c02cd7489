import { classifyOutcome, isSendFailure, type AttemptOutcome, type Sender, type SendResult } from '@fanout/destinations';
import type { Destination } from '@fanout/flows';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { deliveryJobSchema, type DeliveryJob } from '@fanout/queues';
import { readDeadLetterEvent, readDeliveryRecord, readEvent, writeDeliveryOutcome, type EventEntry, type FanoutKeys } from '@fanout/redis';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DeadLetterError } from './dead-letter-error.js';
import { RetryLaterError } from './retry-backoff.js';
import { settleAttempt, type SettledAttempt } from './settle-attempt.js';

/** The metrics a worker moves. */
export type DeliveryMetrics = Pick<FanoutMetrics, 'deliveries' | 'attemptDuration'>;

export interface DeliverDeps {
  /** Reads events and writes delivery records. */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  readonly sender: Sender;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  /** How long attempt logs are kept, in ms. */
  readonly recordTtlMs: number;
  /** Unix ms. */
  readonly now: () => number;
  /** Aborted when a stop gives up waiting: attempts still in flight end, and their jobs are handed back unrecorded. */
  readonly shutdown: AbortSignal;
}

/** The destination a worker delivers to, with its flow's name. */
export interface DeliveryTarget {
  readonly flow: string;
  readonly destination: Destination;
}

export const PAYLOAD_GONE = 'payload no longer stored';

/**
 * One attempt of one delivery, as the processor of the destination's BullMQ worker: send,
 * classify, record, then resolve (delivered), throw RetryLaterError (BullMQ retries after the
 * backoff strategy's delay) or throw DeadLetterError (the job goes to the failed set, the
 * destination's dead letters, at once).
 *
 * Attempt numbers count starts: an attempt's number is `job.attemptsStarted`, so an attempt
 * that a crash or a shutdown cut short keeps its number, and the next start takes the next
 * one (a number missing from the attempt log is such an attempt; the destination may have
 * seen it). The retry policy counts finished attempts (`job.attemptsMade`), so a cut-short
 * attempt spends no retry; BullMQ's `maxStalledCount` bounds those instead. A replay keeps
 * counting from where the delivery was.
 */
export async function deliver(deps: DeliverDeps, target: DeliveryTarget, job: Job<unknown>, token: string | undefined): Promise<void> {
  const delivery = parseJob(job);
  const attempt = job.attemptsStarted;
  // Bound to each line rather than through logger.child(), which costs a few µs per delivery.
  const about = { eventId: delivery.eventId, flow: target.flow, destination: target.destination.name, attempt };
  const startedAt = deps.now();
  // Only a job that ran before and whose end BullMQ did not get to record (its lock was lost,
  // say in a Redis outage) finds its delivery settled: a replay sets the record back to pending
  // first. A first start cannot: the dispatcher creates a job only for a pending delivery, and
  // every later start (retry, replay, stall, lost lock) counts in attemptsStarted. So only
  // later starts read the record, with the event: one round trip. (A job an operator adds or
  // duplicates by hand in Bull Board starts at 1 too, and is sent: what they asked for.)
  const [record, streamed] = await Promise.all([
    attempt > 1 ? readDeliveryRecord(deps.redis, deps.keys, delivery.eventId, target.destination.name) : undefined,
    readEvent(deps.redis, deps.keys, delivery.streamId),
  ]);
  if (record?.status === 'delivered') {
    deps.logger.info(about, 'delivery.already_settled');
    return;
  }
  if (record?.status === 'dead') throw new DeadLetterError(record.lastError ?? 'dead-lettered');

  // Once retention trimmed the stream entry, a replayed dead letter's body is in its copy.
  const event = streamed ?? (await readDeadLetterEvent(deps.redis, deps.keys, delivery.eventId));
  let result: SendResult | undefined;
  let outcome: AttemptOutcome = { kind: 'dead', reason: PAYLOAD_GONE };
  if (event) {
    result = await deps.sender.send({
      eventId: delivery.eventId,
      body: event.body,
      contentType: event.contentType,
      destination: target.destination,
      attemptStartedAt: new Date(startedAt),
      signal: deps.shutdown,
    });
    if (deps.shutdown.aborted && isSendFailure(result)) {
      // Handed back as it was, no retry spent: a live worker takes it at once instead of
      // after its lock expires. Whether the destination saw this attempt is unknown, which
      // at-least-once delivery and the unchanged webhook-id allow for.
      deps.logger.warn({ ...about, durationMs: result.durationMs }, 'delivery.interrupted');
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError('attempt interrupted by shutdown');
    }
    outcome = classifyOutcome(result, deps.now());
  }

  // BullMQ retries a job only while attemptsMade + 1 < attempts, with attempts 1 when unset.
  const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const settled = settleAttempt({ attempt, lastAttempt, startedAt, finishedAt: deps.now(), outcome, ...(result ? { result } : {}) });
  await recordAttempt(deps, delivery, target, settled, event);
  const { statusCode, durationMs, error } = settled.attempt;
  deps.logger[settled.outcome === 'delivered' ? 'info' : 'warn']({ ...about, statusCode, durationMs, outcome: settled.outcome, error }, 'delivery.attempted');

  if (settled.outcome === 'delivered') return;
  if (settled.outcome === 'dead') throw new DeadLetterError(settled.error);
  throw new RetryLaterError(settled.error, outcome.kind === 'retry' ? outcome.retryAfterMs : undefined);
}

function parseJob(job: Job<unknown>): DeliveryJob {
  const parsed = deliveryJobSchema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`).join('; ');
  throw new UnrecoverableError(`malformed delivery job ${job.id ?? ''}: ${issues}`);
}

/** The attempt, the delivery's new record and, for a dead letter, a copy of its event (for its retention), written together. */
async function recordAttempt(deps: DeliverDeps, delivery: DeliveryJob, target: DeliveryTarget, settled: SettledAttempt, event: EventEntry | undefined): Promise<void> {
  const { destination } = target;
  const deadLetterCopy = settled.outcome === 'dead' && event ? { deadLetterCopy: { event, retentionMs: destination.deadLetter.retentionMs } } : {};
  await writeDeliveryOutcome(deps.redis, deps.keys, { eventId: delivery.eventId, destination: destination.name, record: settled.record, attempt: settled.attempt, ...deadLetterCopy }, deps.recordTtlMs);
  const labels = { flow: target.flow, destination: destination.name, outcome: settled.outcome };
  deps.metrics.deliveries.inc(labels);
  deps.metrics.attemptDuration.observe(labels, settled.attempt.durationMs / 1_000);
}
