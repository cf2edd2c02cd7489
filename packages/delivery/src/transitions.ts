import { decodeEventEntry, type EventEntry } from '@fanout/event-log';
import type { CircuitBreakerPolicy } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import { runScript, type FanoutKeys, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { ATTEMPT_LOG_LENGTH, decodeDeliveryRecord, readDeliveryRecord, type AttemptOutcomeName, type AttemptRecord, type DeliveryRecord, type DeliveryStatus } from './records.js';
import { DELIVERY_SCRIPTS } from './scripts.js';

const BEGIN = DELIVERY_SCRIPTS.get('beginAttempt');
const MARK_DELIVERED = DELIVERY_SCRIPTS.get('markDelivered');
const SCHEDULE_RETRY = DELIVERY_SCRIPTS.get('scheduleRetry');
const DEAD_LETTER = DELIVERY_SCRIPTS.get('deadLetter');
const HAND_BACK = DELIVERY_SCRIPTS.get('handBack');
const REPLAY = DELIVERY_SCRIPTS.get('replay');

/** The most of a destination's answer kept for operators: one excerpt per delivery, of at most this many characters. */
export const RESPONSE_EXCERPT_CHARS = 300;

/** One delivery: one event for one destination. */
export interface DeliveryRef {
  readonly eventId: string;
  readonly destination: string;
  /** The line it waits in, at an ordered destination (orderLineName): its job's `line`. */
  readonly line?: string | undefined;
}

/** The first delivery of a line, as the line holds it: what its job is made of. */
export interface LineHead {
  readonly eventId: string;
  readonly streamId: string;
  /** Unix ms. */
  readonly receivedAt: number;
}

/** What a delivery job names: the delivery, and where its event should be. */
export interface NamedDelivery extends DeliveryRef {
  readonly flow: string;
  readonly streamId: string;
}

/** What an attempt came to, for its record and its attempt log entry. */
export interface AttemptFacts {
  readonly attempt: number;
  /** Unix ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Where the destination's kind has one (HTTP). */
  readonly statusCode?: number;
  /** What the destination answered, for operators: the start of its body, or its error's message. */
  readonly response?: string;
}

/** What `begin` found: send the attempt, or why not. */
export type BeginResult =
  /** `event` is undefined when the payload is no longer stored (neither in the stream nor in a dead-letter copy). */
  | { readonly kind: 'send'; readonly attempt: number; readonly event: EventEntry | undefined }
  /** An earlier delivery of its line comes first (`waitingFor`): nothing is sent, the job waits to be released. */
  | { readonly kind: 'held'; readonly waitingFor: LineHead }
  /** Delivered, dead or filtered already: nothing is sent. At an ordered destination, `next` is the first of its line, whose job is to be released. */
  | { readonly kind: 'settled'; readonly record: DeliveryRecord; readonly next?: LineHead }
  /** The job names no delivery: no such event, another flow's, another stream entry. An ordered one that no longer exists left its line: `next` is the first now. */
  | { readonly kind: 'refused'; readonly reason: string; readonly next?: LineHead }
  /** The event exists, but its dispatch has not recorded this delivery (yet). */
  | { readonly kind: 'undispatched' }
  /** The destination is paused, or its breaker open (or half-open with another probe under way): nothing is sent, no attempt spent; `until` (unix ms) is when that may change, where known. */
  | { readonly kind: 'gated'; readonly state: 'paused' | 'open' | 'half-open'; readonly until?: number };

/** What begin needs of the destination beyond the job. */
export interface BeginOptions {
  /** How long a half-open breaker's probe is its own (ms): the longest an attempt may take, and some. Default DEFAULT_PROBE_LEASE_MS. */
  readonly probeLeaseMs?: number;
}

/** A probe's lease when begin is not told the destination's longest attempt, ms. */
export const DEFAULT_PROBE_LEASE_MS = 60_000;

/** How an attempt's outcome counts for its destination's circuit breaker. */
export interface AttemptHealth {
  /** The destination's queue (deliveryQueueName): its health is kept under it. */
  readonly queue: string;
  readonly breaker: CircuitBreakerPolicy;
  /** true: the destination answered (delivered, or refused the event for good); false: it did not answer, or answered "not now" (5xx, 408, 429…). */
  readonly healthy: boolean;
}

/** What an attempt's outcome did to its destination's breaker: opened it, a failed probe opened it again, a probe's success closed it (`outageFrom`: unix ms, where the outage began). */
export type BreakerChange = { readonly to: 'open'; readonly reopened: boolean } | { readonly to: 'closed'; readonly outageFrom: number };

/** What a transition left the delivery at; `missing` when it has no record (nothing was written). */
export type TransitionResult = DeliveryStatus | 'missing';

/** What delivered or dead left: the delivery's status, and at an ordered destination the first of its line now (absent when nothing waits), whose job is to be released. */
export interface Settlement {
  readonly status: TransitionResult;
  readonly next?: LineHead;
  /** Absent when the breaker did not change (or the destination has none). */
  readonly breaker?: BreakerChange;
}

/** What a scheduled retry left: the delivery's status, and the breaker's change when its failure opened it. */
export interface Retried {
  readonly status: TransitionResult;
  readonly breaker?: BreakerChange;
}

/** Why a delivery is dead, and the attempt that made it so when there was one. */
export interface Death {
  readonly error: string;
  /** Absent when no attempt ran (BullMQ failed the job by itself). */
  readonly attempt?: AttemptFacts;
  /** How long the dead letter is kept (the destination's deadLetter.retention), ms. */
  readonly retentionMs: number;
  /** How the attempt counts for the destination's breaker; absent: not counted. */
  readonly health?: AttemptHealth;
}

export interface DeliveryState {
  /** Begin an attempt of the delivery a job names: pending, retrying or active (cut short) → active. */
  begin(job: NamedDelivery, options?: BeginOptions): Promise<BeginResult>;
  /** The attempt delivered: → delivered, the delivery closed; at an ordered destination it leaves its line. `health`: how the breaker counts it. */
  markDelivered(ref: DeliveryRef, attempt: AttemptFacts, health?: AttemptHealth): Promise<Settlement>;
  /** The attempt failed, another is scheduled: active → retrying. `health`: how the breaker counts it. */
  scheduleRetry(ref: DeliveryRef, attempt: AttemptFacts, error: string, health?: AttemptHealth): Promise<Retried>;
  /** → dead: ran out of attempts, refused for good, or failed by BullMQ; closed, its event copied for replay. */
  deadLetter(ref: DeliveryRef, death: Death): Promise<Settlement>;
  /** A stopping worker gave the attempt up: active → pending. */
  handBack(ref: DeliveryRef, attempt: number): Promise<TransitionResult>;
  /** Where the delivery stands, undefined when it has no record: a read, no transition. */
  statusOf(ref: DeliveryRef): Promise<DeliveryStatus | undefined>;
  /** An operator sends it again: dead (and, with `delivered`, delivered) → pending. Answers the status it had. */
  replay(ref: DeliveryRef, options?: { readonly delivered?: boolean }): Promise<TransitionResult>;
}

export interface DeliveryStateDeps {
  /** A connection created with DELIVERY_SCRIPTS. */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  /** How long attempt logs are kept (the event retention), ms. */
  readonly attemptLogTtlMs: number;
  /** Unix ms. */
  readonly now: () => number;
}

function logEntry(outcome: Exclude<AttemptOutcomeName, 'delivered' | 'interrupted'>, { attempt, startedAt, durationMs, statusCode, response }: AttemptFacts, error?: string): string {
  const entry: AttemptRecord = {
    attempt,
    at: startedAt,
    durationMs,
    outcome,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(error === undefined ? {} : { error }),
    ...(response ? { response: response.slice(0, RESPONSE_EXCERPT_CHARS) } : {}),
  };
  return JSON.stringify(entry);
}

/** A line's member, `<event id>|<stream id>|<receivedAt>` (lua/includes/line.lua); undefined for none. */
export function decodeLineHead(member: Buffer | string | null | undefined): LineHead | undefined {
  if (member === null || member === undefined) return undefined;
  const [eventId = '', streamId = '', receivedAt = ''] = member.toString().split('|');
  return { eventId, streamId, receivedAt: Number(receivedAt) };
}

const withNext = (member: Buffer | string | null | undefined): { next?: LineHead } => {
  const next = decodeLineHead(member);
  return next ? { next } : {};
};

/** The breaker's ARGV of an outcome transition (destinationHealth.lua, recordHealth): '' for none. */
function healthArgs(health: AttemptHealth | undefined): (string | number)[] {
  if (!health) return [''];
  const { breaker, healthy } = health;
  const { trip } = breaker;
  const counts = trip.kind === 'consecutiveFailures' ? ['consecutive', healthy ? 1 : 0, trip.count, '', ''] : ['rate', healthy ? 1 : 0, trip.thresholdPercent, trip.minAttempts, trip.windowMs];
  return [...counts, breaker.cooldownMs];
}

function decodeBreakerChange(change: string | null | undefined, outageFrom: string | null | undefined): { breaker?: BreakerChange } {
  if (change === 'opened' || change === 'reopened') return { breaker: { to: 'open', reopened: change === 'reopened' } };
  if (change === 'closed') return { breaker: { to: 'closed', outageFrom: Number(outageFrom) } };
  return {};
}

const GATED = new Set(['paused', 'open', 'half-open']);

function decodeBegin(reply: (Buffer | number | null)[]): BeginResult {
  const [kind, ...rest] = reply;
  switch (kind?.toString()) {
    case 'send': {
      const [attempt, ...fields] = rest;
      return { kind: 'send', attempt: Number(String(attempt)), event: fields.length > 0 ? decodeEventEntry(fields as Buffer[]) : undefined };
    }
    case 'held':
      return { kind: 'held', waitingFor: decodeLineHead(rest[0] as Buffer)! };
    case 'settled':
      return { kind: 'settled', record: decodeDeliveryRecord(String(rest[0])), ...withNext(rest[1] as Buffer | null | undefined) };
    case 'refused':
      return { kind: 'refused', reason: String(rest[0]), ...withNext(rest[1] as Buffer | null | undefined) };
    case 'undispatched':
      return { kind: 'undispatched' };
    case 'gated': {
      const state = String(rest[0]);
      if (!GATED.has(state)) throw new Error(`beginAttempt answered gated by ${state}`);
      const until = Number(String(rest[1] ?? ''));
      return { kind: 'gated', state: state as 'paused' | 'open' | 'half-open', ...(until > 0 ? { until } : {}) };
    }
    default:
      throw new Error(`beginAttempt answered ${String(kind)}`);
  }
}

type SettlementReply = [TransitionResult, string | null | undefined, string | null | undefined, string | null | undefined];

function decodeSettlement([status, next, change, outageFrom]: SettlementReply): Settlement {
  return { status, ...withNext(next), ...decodeBreakerChange(change, outageFrom) };
}

/**
 * The one owner of delivery state: every change of a delivery's record goes through one of
 * these transitions, each one script (lua/), so a record, its attempt log, the open
 * deliveries and a dead letter's copy never disagree. The worker and the dashboard call
 * them; nothing else writes a delivery record.
 */
export function deliveryState({ redis, keys, attemptLogTtlMs, now }: DeliveryStateDeps): DeliveryState {
  const log = [attemptLogTtlMs, ATTEMPT_LOG_LENGTH] as const;
  /** The keys every transition starts with: where the event's record is kept (see eventRecord.lua). */
  const recordKeys = (partition: PartitionKeys, eventId: string) => [partition.eventRecords(eventId), partition.deadLetterEvent(eventId)] as const;
  /** The keys an ordered delivery's transitions end with: its line and the partition's set of lines. */
  const lineKeys = (partition: PartitionKeys, line: string | undefined) => (line === undefined ? [] : [partition.line(line), partition.lines]);
  /** The destination's health key, last, for a transition its breaker counts. */
  const healthKeys = (partition: PartitionKeys, health: AttemptHealth | undefined) => (health === undefined ? [] : [partition.destinationHealth(health.queue)]);
  /** A script with a variable number of keys: their count first. */
  const keyed = (keys: readonly string[], args: readonly (string | number)[]) => [keys.length, ...keys, ...args];
  return {
    async begin(job, { probeLeaseMs = DEFAULT_PROBE_LEASE_MS } = {}) {
      const partition = keys.partitionOf(job.eventId);
      const reply = await runScript<(Buffer | number | null)[]>(
        redis,
        BEGIN,
        keyed(
          [...recordKeys(partition, job.eventId), partition.stream, partition.attempts(job.eventId, job.destination), partition.destinationHealth(deliveryQueueName(job.flow, job.destination)), ...lineKeys(partition, job.line)],
          [job.eventId, job.destination, job.flow, job.streamId, now(), ...log, probeLeaseMs],
        ),
        'buffers',
      );
      return decodeBegin(reply);
    },
    async markDelivered({ eventId, destination, line }, attempt, health) {
      const partition = keys.partitionOf(eventId);
      const endedAt = attempt.startedAt + attempt.durationMs;
      const reply = await runScript<SettlementReply>(
        redis,
        MARK_DELIVERED,
        keyed(
          [...recordKeys(partition, eventId), partition.openDeliveries, partition.attempts(eventId, destination), ...lineKeys(partition, line), ...healthKeys(partition, health)],
          [eventId, destination, attempt.attempt, attempt.statusCode ?? '', endedAt, attempt.durationMs, ...log, ...healthArgs(health)],
        ),
      );
      return decodeSettlement(reply);
    },
    async scheduleRetry({ eventId, destination }, attempt, error, health) {
      const partition = keys.partitionOf(eventId);
      const endedAt = attempt.startedAt + attempt.durationMs;
      const [status, change] = await runScript<[TransitionResult, string | null]>(
        redis,
        SCHEDULE_RETRY,
        keyed(
          [...recordKeys(partition, eventId), partition.attempts(eventId, destination), ...healthKeys(partition, health)],
          [eventId, destination, attempt.attempt, attempt.statusCode ?? '', endedAt, attempt.durationMs, error, logEntry('retry', attempt, error), ...log, ...healthArgs(health)],
        ),
      );
      return { status, ...decodeBreakerChange(change, undefined) };
    },
    async deadLetter({ eventId, destination, line }, { error, attempt, retentionMs, health }) {
      const partition = keys.partitionOf(eventId);
      const endedAt = attempt ? attempt.startedAt + attempt.durationMs : now();
      // Only an attempt tells anything of the destination's health.
      const counted = attempt ? health : undefined;
      const reply = await runScript<SettlementReply>(
        redis,
        DEAD_LETTER,
        keyed(
          [...recordKeys(partition, eventId), partition.openDeliveries, partition.attempts(eventId, destination), partition.stream, ...lineKeys(partition, line), ...healthKeys(partition, counted)],
          [eventId, destination, attempt?.attempt ?? '', attempt?.statusCode ?? '', endedAt, attempt?.durationMs ?? '', error, attempt ? logEntry('dead', attempt, error) : '', ...log, retentionMs, ...healthArgs(counted)],
        ),
      );
      return decodeSettlement(reply);
    },
    handBack({ eventId, destination }, attempt) {
      const partition = keys.partitionOf(eventId);
      const at = now();
      const entry: AttemptRecord = { attempt, at, outcome: 'interrupted', error: 'cut short by a stopping worker; handed back to the queue' };
      return runScript(redis, HAND_BACK, [...recordKeys(partition, eventId), partition.attempts(eventId, destination), eventId, destination, attempt, at, JSON.stringify(entry), ...log]);
    },
    async statusOf({ eventId, destination }) {
      return (await readDeliveryRecord(redis, keys.partitionOf(eventId), eventId, destination))?.status;
    },
    replay({ eventId, destination, line }, { delivered = false } = {}) {
      const partition = keys.partitionOf(eventId);
      return runScript(redis, REPLAY, keyed([...recordKeys(partition, eventId), partition.openDeliveries, partition.stream, ...lineKeys(partition, line)], [eventId, destination, now(), delivered ? '1' : '0']));
    },
  };
}
