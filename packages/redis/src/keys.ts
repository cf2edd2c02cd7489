import { createHash } from 'node:crypto';

/**
 * Every Redis key fanout writes is built here.
 *
 * The event log is split into partitions, each a stream with its own consumer group, open
 * deliveries and dispatcher dead letters. Every key that belongs to an event carries its
 * partition's hash tag, so on Redis Cluster a partition's keys share one slot and the
 * scripts that change several of them at once (ingest, dispatch, each delivery transition,
 * the trim) stay atomic, while partitions spread over the cluster. One partition (the
 * default) is tagged `{events}`; with more, partition n is tagged `{events-<n>}`. An event's
 * partition follows from its id alone, so its records can be found from the id.
 *
 * BullMQ builds its own keys under `bullPrefix` (`<prefix>:q:<queue>:…`); its job ids are
 * the event id, which makes them deterministic per (event, destination) because every
 * destination has its own queue.
 */
export interface FanoutKeys {
  /** Namespace of every key, `fanout` by default; tests give each test its own. */
  readonly prefix: string;
  /** BullMQ's `prefix` option for every delivery queue. */
  readonly bullPrefix: string;
  /** Every partition of the event log, in order. */
  readonly partitions: readonly PartitionKeys[];
  /** The dispatch plan of one version of a flow, shared by every process (see @fanout/flows' flow registry). */
  flowPlan(flow: string, version: string): string;
  /** The partition an event belongs to, from its id. */
  partitionOf(eventId: string): PartitionKeys;
  /**
   * The partition of the events that carry a flow's idempotency key: its check and the event
   * must share a slot, so an event with a key is given an id of this partition.
   */
  partitionForIdempotencyKey(flow: string, key: string): PartitionKeys;
  /** The replays of dead letters: their records, audit and leases. */
  readonly replays: ReplayKeys;
}

/**
 * The keys of dead-letter replays. Every one carries the hash tag `{replays}`: the script that
 * advances a replay changes its record, lease, list and the running set at once, so on Redis
 * Cluster they share one slot (replays are few; one slot holds them all).
 */
export interface ReplayKeys {
  /** Every replay's id, scored by when it was asked for (unix ms): the audit, newest last. */
  readonly audit: string;
  /** The ids of the replays not yet finished, which some process must run. */
  readonly running: string;
  /** One replay's record: its request, counts and cursor (a hash). */
  record(replay: string): string;
  /** The deliveries one replay matched when it was asked for (`<event id>|<dead-lettered at>`, oldest first), until it finishes. */
  matched(replay: string): string;
  /** Which process runs the replay: its token, with a ttl it renews. */
  lease(replay: string): string;
}

/** The keys of one partition of the event log and of the events in it. */
export interface PartitionKeys {
  readonly index: number;
  /** The partition's hash tag, `{events}` or `{events-<n>}`. */
  readonly tag: string;
  /** The event stream: one entry per accepted event, the only copy of its body. */
  readonly stream: string;
  /**
   * The open deliveries: a sorted set with one member per delivery that has a job and is not
   * yet delivered or dead, scored by its stream entry's ms. The oldest bounds the stream trim.
   */
  readonly openDeliveries: string;
  /** The dispatcher's dead letters: a stream of the entries it gave up on, each with a copy of the entry's fields. */
  readonly dispatchDeadLetters: string;
  /**
   * The hash holding the event's record (its flow, receivedAt and stream id, and one delivery
   * record per destination) in its field `<event id>`: one hash for the events of
   * RECORD_BUCKET_MS, by the time in their UUIDv7 id. A key per event would cost ~150 B more
   * per event (its name, its expiry, its own hash), more than the records themselves.
   */
  eventRecords(eventId: string): string;
  /** A record bucket by its name (see recordBucketOf); `*` matches them all. */
  recordBucket(bucket: string): string;
  /** The attempt log of one delivery (only deliveries that failed at least once have one), oldest first. */
  attempts(eventId: string, destination: string): string;
  /** A flow's idempotency key: holds the id of the first event that carried it, until its ttl. */
  idempotency(flow: string, key: string): string;
  /** The copy of a dead-lettered event (the stream entry's fields), kept for replay once the stream entry is trimmed. */
  deadLetterEvent(eventId: string): string;
  /**
   * The line of an ordered destination (one per destination for fifo, one per key value for
   * a key ordering; `name` is `<queue>:<key digest>`): a list of its deliveries not yet
   * delivered or dead, in dispatch order, the first the one that may be attempted. A line
   * with nothing waiting does not exist.
   */
  line(name: string): string;
  /** Every line that has deliveries waiting (its key is the member), scored by the last time it moved, for the sweep of stuck lines. */
  readonly lines: string;
  /**
   * A destination's health, by its queue: its circuit breaker's state and counts, or that it
   * is paused (see packages/delivery/lua/includes/destinationHealth.lua). Shared by every
   * worker process of the destination, and in the partition's slot because the attempt's
   * transitions change it in the same script as the record. With one partition (the default)
   * that is one state per destination; with more, each partition's deliveries keep their own.
   */
  destinationHealth(queue: string): string;
  /** Which dispatcher owns the partition (the only one that dispatches it): its consumer name, with a ttl it renews. */
  readonly dispatchLease: string;
}

/** The consumer group every dispatcher reads a partition's stream through. */
export const DISPATCHER_GROUP = 'dispatchers';

/** How many ms of events one record hash holds (see PartitionKeys.eventRecords). */
export const RECORD_BUCKET_MS = 10_000;

/** A record bucket outlives its first event by the records' ttl plus the bucket's span, so each of its events' records is kept at least the ttl. */
export function recordBucketTtlMs(recordTtlMs: number): number {
  return recordTtlMs + RECORD_BUCKET_MS;
}

const UUID_V7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The record bucket of an event id: the 10 s of its UUIDv7 timestamp; ids of another shape (tests, fault injection) share bucket `x`. */
export function recordBucketOf(eventId: string): string {
  const match = UUID_V7.exec(eventId);
  return match ? String(Math.floor(parseInt(`${match[1]}${match[2]}`, 16) / RECORD_BUCKET_MS)) : 'x';
}

/** Idempotency keys come from senders; longer ones are stored as their hash so key names stay bounded. */
export const IDEMPOTENCY_KEY_MAX_BYTES = 256;

function partitionKeys(prefix: string, index: number, count: number): PartitionKeys {
  const tag = count === 1 ? '{events}' : `{events-${index}}`;
  const tagged = `${prefix}:${tag}`;
  return {
    index,
    tag,
    stream: `${tagged}:stream`,
    openDeliveries: `${tagged}:open-deliveries`,
    dispatchDeadLetters: `${tagged}:dispatch-dead-letters`,
    eventRecords: (eventId) => `${tagged}:records:${recordBucketOf(eventId)}`,
    recordBucket: (bucket) => `${tagged}:records:${bucket}`,
    attempts: (eventId, destination) => `${tagged}:attempts:${eventId}:${destination}`,
    // Scoped by flow (whose name has no ':'), so two flows never share a key. `=` marks a key
    // as sent, `#` its SHA-256, so a sent key that looks like a hash cannot meet a hashed one.
    idempotency: (flow, key) =>
      Buffer.byteLength(key) > IDEMPOTENCY_KEY_MAX_BYTES
        ? `${tagged}:idempotency:${flow}:#${createHash('sha256').update(key).digest('hex')}`
        : `${tagged}:idempotency:${flow}:=${key}`,
    deadLetterEvent: (eventId) => `${tagged}:dead-letter-event:${eventId}`,
    line: (name) => `${tagged}:line:${name}`,
    lines: `${tagged}:lines`,
    dispatchLease: `${tagged}:dispatch-lease`,
    destinationHealth: (queue) => `${tagged}:destination-health:${queue}`,
  };
}

function replayKeys(tagged: string): ReplayKeys {
  return {
    audit: `${tagged}:audit`,
    running: `${tagged}:running`,
    // Replay ids are UUIDv7s: no ':'.
    record: (replay) => `${tagged}:replay:${replay}`,
    matched: (replay) => `${tagged}:replay:${replay}:matched`,
    lease: (replay) => `${tagged}:replay:${replay}:lease`,
  };
}

/** FNV-1a: cheap, stable across processes and versions, and spreads UUIDv7s evenly. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * @param partitions How many partitions the event log has. Fixed for a deployment's life: an
 * event's partition is computed from its id, so changing the count would lose sight of the
 * events already stored. Default 1.
 */
export function createKeys(prefix = 'fanout', partitions = 1): FanoutKeys {
  if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partitions must be a whole number ≥ 1, got ${partitions}`);
  const all = Array.from({ length: partitions }, (_, index) => partitionKeys(prefix, index, partitions));
  return {
    prefix,
    bullPrefix: `${prefix}:q`,
    partitions: all,
    // Flow and version names have no ':'; not an event's, so in no partition's slot.
    flowPlan: (flow, version) => `${prefix}:flow-plan:${flow}:${version}`,
    partitionOf: (eventId) => all[partitions === 1 ? 0 : fnv1a(eventId) % partitions]!,
    partitionForIdempotencyKey: (flow, key) => all[partitions === 1 ? 0 : fnv1a(`${flow}:${key}`) % partitions]!,
    replays: replayKeys(`${prefix}:{replays}`),
  };
}
