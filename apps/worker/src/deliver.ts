import { classifyOutcome, isSendFailure, type AttemptOutcome, type Sender, type SendResult } from '@fanout/destinations';
import type { Destination } from '@fanout/flows';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { deliveryJobSchema, type DeliveryJob } from '@fanout/queues';
import { readEvent, writeAttempt, type FanoutKeys } from '@fanout/redis';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
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
 * backoff strategy's delay) or throw UnrecoverableError (the job goes to the failed set, the
 * destination's dead letters, at once).
 */
export async function deliver(deps: DeliverDeps, target: DeliveryTarget, job: Job<unknown>, token: string | undefined): Promise<void> {
  const delivery = parseJob(job);
  const attempt = job.attemptsMade + 1;
  const log = deps.logger.child({ eventId: delivery.eventId, flow: target.flow, destination: target.destination.name, attempt });
  const startedAt = deps.now();
  const event = await readEvent(deps.redis, deps.keys, delivery.streamId);
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
      // Handed back as it was, no attempt spent: a live worker takes it at once instead of
      // after its lock expires. Whether the destination saw this attempt is unknown, which
      // at-least-once delivery and the unchanged webhook-id allow for.
      log.warn({ durationMs: result.durationMs }, 'delivery.interrupted');
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError('attempt interrupted by shutdown');
    }
    outcome = classifyOutcome(result, deps.now());
  }

  // BullMQ retries a job only while attemptsMade + 1 < attempts, with attempts 1 when unset.
  const settled = settleAttempt({ attempt, maxAttempts: job.opts.attempts ?? 1, startedAt, finishedAt: deps.now(), outcome, ...(result ? { result } : {}) });
  await recordAttempt(deps, delivery, target, settled);
  const { statusCode, durationMs, error } = settled.attempt;
  log[settled.outcome === 'delivered' ? 'info' : 'warn']({ statusCode, durationMs, outcome: settled.outcome, error }, 'delivery.attempted');

  if (settled.outcome === 'delivered') return;
  if (settled.outcome === 'dead') throw new UnrecoverableError(settled.error);
  throw new RetryLaterError(settled.error, outcome.kind === 'retry' ? outcome.retryAfterMs : undefined);
}

function parseJob(job: Job<unknown>): DeliveryJob {
  const parsed = deliveryJobSchema.safeParse(job.data);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`).join('; ');
  throw new UnrecoverableError(`malformed delivery job ${job.id ?? ''}: ${issues}`);
}

/** The attempt log entry and the delivery record in one MULTI, so the two never disagree. */
async function recordAttempt(deps: DeliverDeps, delivery: DeliveryJob, target: DeliveryTarget, settled: SettledAttempt): Promise<void> {
  const multi = deps.redis.multi();
  writeAttempt(multi, deps.keys, delivery.eventId, target.destination.name, settled.attempt, settled.record, deps.recordTtlMs);
  const replies = await multi.exec();
  const failure = replies?.find(([error]) => error)?.[0];
  if (failure) throw failure;
  const labels = { flow: target.flow, destination: target.destination.name, outcome: settled.outcome };
  deps.metrics.deliveries.inc(labels);
  deps.metrics.attemptDuration.observe(labels, settled.attempt.durationMs / 1_000);
}
