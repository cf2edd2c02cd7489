import type { AttemptReport, DestinationClient } from '@fanout/destinations';
import { DeadLetterError, deliveryOfJob, handBackJob, isLastAttempt, JobRefusedError, parkGatedJob, parkHeldJob, refOf, releaseJob, RetryLaterError, type AttemptFacts, type AttemptHealth, type BreakerChange, type DeliveryRef, type DeliveryState, type LineHead } from '@fanout/delivery';
import { longestAttemptMs } from '@fanout/flows';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { DelayedError, type Job } from 'bullmq';
import type { DestinationGate, GatedDestination } from './destination-gate.js';
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
  /** What a paused destination or an open breaker makes the workers do. */
  readonly gate: Pick<DestinationGate, 'changed' | 'gated' | 'gone'>;
}

/** The destination a worker delivers to, with its flow's name, the client of its kind, and its queue (an ordered one's releases add jobs to it). */
export interface DeliveryTarget extends GatedDestination {
  readonly client: DestinationClient;
}

export const PAYLOAD_GONE = 'payload no longer stored';

/** A half-open breaker's probe is its attempt's own for the attempt's longest time and this much more (ms); then another attempt may probe. */
export const PROBE_LEASE_MARGIN_MS = 5_000;

export const GONE_PAUSED = 'HTTP 410 Gone: the destination is paused (onGone: pause)';

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

  const begun = await written('begin', () => deps.state.begin(delivery, { probeLeaseMs: longestAttemptMs(target.destination) + PROBE_LEASE_MARGIN_MS }));
  if (begun.kind === 'refused') {
    deps.logger.warn({ ...about, jobId: job.id, reason: begun.reason }, 'delivery.refused');
    await release(begun.next);
    throw new JobRefusedError(begun.reason);
  }
  // The dispatcher writes a delivery's record before its job: this job is early, or no dispatch made it.
  if (begun.kind === 'undispatched') throw new RetryLaterError('the delivery has no record yet: its dispatch has not finished');
  if (begun.kind === 'gated') {
    await deps.gate.gated(target).catch((error: unknown) => deps.logger.warn({ ...about, err: error }, 'destination.pause_failed'));
    return parkGatedJob(job, token, begun.until, deps.now());
  }
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
  const facts = { attempt, startedAt, ...factsOf(report) };
  if (report.statusCode === 410 && target.destination.onGone === 'pause') return pauseForGone(deps, target, job, token, ref, facts, written);
  await record(deps, target, job, ref, facts, report, written, release);
}

/**
 * onGone: pause. The attempt is logged (the delivery retrying, its breaker not counting it),
 * the destination paused, and the job waits in its paused queue with no retry spent, to be
 * attempted again once an operator resumes the destination.
 */
async function pauseForGone(deps: DeliverDeps, target: DeliveryTarget, job: Job<unknown>, token: string | undefined, ref: DeliveryRef, facts: AttemptFacts, written: Written): Promise<never> {
  await written('scheduleRetry', () => deps.state.scheduleRetry(ref, facts, GONE_PAUSED));
  deps.logger.warn({ eventId: ref.eventId, flow: target.flow, destination: ref.destination, attempt: facts.attempt, statusCode: 410, durationMs: facts.durationMs, outcome: 'paused', error: GONE_PAUSED }, 'delivery.attempted');
  await written('pause', () => deps.gate.gone(target));
  await job.moveToDelayed(deps.now(), token);
  throw new DelayedError(GONE_PAUSED);
}

/** How the attempt counts for the destination's breaker: answered (delivered, or refused with a status) or failed; absent when it has none, or the outcome says nothing of its health. */
function healthOf(target: DeliveryTarget, report: AttemptReport): AttemptHealth | undefined {
  const breaker = target.destination.circuitBreaker;
  if (!breaker) return undefined;
  const { outcome } = report;
  // A refusal without an answer (the network guard's, a missing exchange) is not the destination failing.
  if (outcome.kind === 'dead' && report.statusCode === undefined) return undefined;
  return { queue: target.name, breaker, healthy: outcome.kind !== 'retry' };
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
  const health = healthOf(target, report);
  const settle = async (settlement: { readonly next?: LineHead; readonly breaker?: BreakerChange }): Promise<void> => {
    if (settlement.breaker) await deps.gate.changed(target, settlement.breaker).catch((error: unknown) => deps.logger.warn({ eventId: ref.eventId, flow: target.flow, destination: ref.destination, err: error }, 'destination.gate_failed'));
    await release(settlement.next);
  };
  if (next.to === 'delivered') await settle(await written('markDelivered', () => deps.state.markDelivered(ref, facts, health)));
  else if (next.to === 'retrying') await settle(await written('scheduleRetry', () => deps.state.scheduleRetry(ref, facts, next.error, health)));
  else await settle(await written('deadLetter', () => deps.state.deadLetter(ref, { error: next.error, attempt: facts, retentionMs: target.destination.deadLetter.retentionMs, ...(health && { health }) })));

  const outcome = next.to === 'delivered' ? 'delivered' : next.to === 'retrying' ? 'retry' : 'dead';
  const labels = { flow: target.flow, destination: ref.destination, outcome };
  deps.metrics.deliveries.inc(labels);
  deps.metrics.attemptDuration.observe(labels, facts.durationMs / 1_000);
  const line = { eventId: ref.eventId, flow: target.flow, destination: ref.destination, attempt: facts.attempt, statusCode: facts.statusCode, durationMs: facts.durationMs, outcome, ...(next.to === 'delivered' ? {} : { error: next.error }) };
  deps.logger[next.to === 'delivered' ? 'info' : 'warn'](line, 'delivery.attempted');

  if (next.to === 'dead') throw new DeadLetterError(next.error);
  if (next.to === 'retrying') throw new RetryLaterError(next.error, next.retryAfterMs);
}
