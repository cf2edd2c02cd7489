import type { AttemptReport, DestinationClient } from '@fanout/destinations';
import { DeadLetterError, deliveryOfJob, handBackJob, isLastAttempt, JobRefusedError, parkHeldJob, refOf, releaseJob, RetryLaterError, type AttemptFacts, type DeliveryRef, type DeliveryState, type LineHead } from '@fanout/delivery';
import type { Destination } from '@fanout/flows';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import type { DeliveryQueue } from '@fanout/queues';
import type { Job } from 'bullmq';
import { nextTransition } from './next-transition.js';
import { untilWritten } from './until-written.js';

/** The metrics a worker moves. */
export type DeliveryMetrics = Pick<FanoutMetrics, 'deliveries' | 'attemptDuration' | 'recordRetries'>;

export interface DeliverDeps {
  /** Every change of a delivery's record goes through its transitions. */
  readonly state: DeliveryState;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  /** Unix ms. */
  readonly now: () => number;
  /** Aborted when a stop gives up waiting: attempts still in flight end, and their jobs are handed back. */
  readonly shutdown: AbortSignal;
}

/** The destination a worker delivers to, with its flow's name, the client of its kind, and its queue (an ordered one's releases add jobs to it). */
export interface DeliveryTarget {
  readonly flow: string;
  readonly destination: Destination;
  readonly client: DestinationClient;
  readonly queue: DeliveryQueue;
}

export const PAYLOAD_GONE = 'payload no longer stored';

/**
 * One attempt of one delivery, as the processor of the destination's BullMQ worker: begin
 * (the delivery's record says whether to send, and numbers the attempt), send through the
 * destination's kind, record the outcome, then resolve (delivered), throw RetryLaterError
 * (BullMQ retries after the backoff strategy's delay) or throw DeadLetterError (the job goes
 * to the failed set, the destination's dead letters, at once).
 *
 * Nothing is sent that the record does not allow, whoever made the job: a job naming no real
 * delivery is refused, and one whose delivery is delivered or dead already settles at once
 * (it was made again after the consumer group was lost, or ran again after its lock was lost).
 * Attempt numbers count starts: an attempt cut short by a crash keeps its number and is logged
 * as interrupted. The retry policy counts finished attempts (BullMQ's), so a cut-short attempt
 * spends no retry; BullMQ's `maxStalledCount` bounds those instead.
 *
 * At an ordered destination only the first delivery of a line is sent; a job of a held one
 * waits delayed. A delivery that settles (or is found settled: its worker died before its job
 * finished) releases the next of its line before its own job ends, so no crash leaves a line
 * without a job to run.
 */
export async function deliver(deps: DeliverDeps, target: DeliveryTarget, job: Job<unknown>, token: string | undefined): Promise<void> {
  const found = deliveryOfJob(job);
  if (!found.ok) throw new JobRefusedError(found.reason);
  const { delivery } = found;
  const ref = refOf(delivery);
  // Bound to each line rather than through logger.child(), which costs a few µs per delivery.
  const about = { eventId: delivery.eventId, flow: target.flow, destination: target.destination.name };
  const written = <T>(transition: string, write: () => Promise<T>): Promise<T> => untilWritten(deps, { ...about, transition }, write);

  const release = (next: LineHead | undefined): Promise<void> => (next && ref.line ? written('release', () => releaseJob(deps.state, target.queue, target.destination, target.flow, ref.line!, next)) : Promise.resolve());

  const begun = await written('begin', () => deps.state.begin(delivery));
  if (begun.kind === 'refused') {
    deps.logger.warn({ ...about, jobId: job.id, reason: begun.reason }, 'delivery.refused');
    await release(begun.next);
    throw new JobRefusedError(begun.reason);
  }
  // The dispatcher writes a delivery's record before its job: this job is early, or no dispatch made it.
  if (begun.kind === 'undispatched') throw new RetryLaterError('the delivery has no record yet: its dispatch has not finished');
  if (begun.kind === 'held') {
    deps.logger.info({ ...about, waitingFor: begun.waitingFor.eventId }, 'delivery.held');
    return parkHeldJob(job, token);
  }
  if (begun.kind === 'settled') {
    const { status, error } = begun.record;
    deps.logger.info({ ...about, status }, 'delivery.already_settled');
    await release(begun.next);
    if (status === 'delivered') return;
    if (status === 'dead') throw new DeadLetterError(error ?? 'dead-lettered');
    throw new JobRefusedError(`the delivery is ${status}: it has no job`);
  }

  const { attempt, event } = begun;
  const startedAt = deps.now();
  if (!event) {
    await release((await written('deadLetter', () => deps.state.deadLetter(ref, { error: PAYLOAD_GONE, attempt: { attempt, startedAt, durationMs: 0 }, retentionMs: target.destination.deadLetter.retentionMs }))).next);
    deps.logger.warn({ ...about, attempt, outcome: 'dead', error: PAYLOAD_GONE }, 'delivery.attempted');
    throw new DeadLetterError(PAYLOAD_GONE);
  }
  const report = await target.client.deliver({ eventId: event.id, flow: event.flow, receivedAt: event.receivedAt, contentType: event.contentType, body: event.body, attempt, startedAt, signal: deps.shutdown });
  if (report.interrupted && deps.shutdown.aborted) {
    // Whether the destination saw this attempt is unknown, which at-least-once delivery and
    // the unchanged webhook-id allow for.
    deps.logger.warn({ ...about, attempt, durationMs: report.durationMs }, 'delivery.interrupted');
    return handBackJob(deps.state, job, token, ref, attempt);
  }
  await record(deps, target, job, ref, { attempt, startedAt, ...factsOf(report) }, report, written, release);
}

function factsOf({ durationMs, statusCode, response }: AttemptReport): Omit<AttemptFacts, 'attempt' | 'startedAt'> {
  return { durationMs, ...(statusCode === undefined ? {} : { statusCode }), ...(response === undefined ? {} : { response }) };
}

type Written = <T>(transition: string, write: () => Promise<T>) => Promise<T>;

/** The attempt's transition (tried until Redis takes it), its metrics and its log line, then what BullMQ is told. */
async function record(
  deps: DeliverDeps,
  target: DeliveryTarget,
  job: Job<unknown>,
  ref: DeliveryRef,
  facts: AttemptFacts,
  report: AttemptReport,
  written: Written,
  release: (next: LineHead | undefined) => Promise<void>,
): Promise<void> {
  const next = nextTransition(report.outcome, isLastAttempt(job));
  if (next.to === 'delivered') await release((await written('markDelivered', () => deps.state.markDelivered(ref, facts))).next);
  else if (next.to === 'retrying') await written('scheduleRetry', () => deps.state.scheduleRetry(ref, facts, next.error));
  else await release((await written('deadLetter', () => deps.state.deadLetter(ref, { error: next.error, attempt: facts, retentionMs: target.destination.deadLetter.retentionMs }))).next);

  const outcome = next.to === 'delivered' ? 'delivered' : next.to === 'retrying' ? 'retry' : 'dead';
  const labels = { flow: target.flow, destination: ref.destination, outcome };
  deps.metrics.deliveries.inc(labels);
  deps.metrics.attemptDuration.observe(labels, facts.durationMs / 1_000);
  const line = { eventId: ref.eventId, flow: target.flow, destination: ref.destination, attempt: facts.attempt, statusCode: facts.statusCode, durationMs: facts.durationMs, outcome, ...(next.to === 'delivered' ? {} : { error: next.error }) };
  deps.logger[next.to === 'delivered' ? 'info' : 'warn'](line, 'delivery.attempted');

  if (next.to === 'dead') throw new DeadLetterError(next.error);
  if (next.to === 'retrying') throw new RetryLaterError(next.error, next.retryAfterMs);
}
