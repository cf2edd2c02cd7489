import { createHash } from 'node:crypto';

/**
 * Every Redis key fanout writes is built here.
 *
 * The `{events}` hash tag puts the event stream and the event records in one Cluster slot,
 * so the ingest script can write both atomically. A partitioned deployment swaps `{events}`
 * for `{events-<n>}` per stream partition; nothing else in a key's shape changes.
 *
 * BullMQ builds its own keys under `bullPrefix` (`<prefix>:q:<queue>:…`); its job ids are
 * the event id, which makes them deterministic per (event, destination) because every
 * destination has its own queue.
 */
export interface FanoutKeys {
  /** Namespace of every key, `fanout` by default; tests give each test its own. */
  readonly prefix: string;
  /** The event stream: one entry per accepted event, the only copy of its body. */
  readonly eventStream: string;
  /** The event record hash: flow, receivedAt, stream entry id and one delivery record per destination. */
  event(eventId: string): string;
  /** The attempt log of one delivery, a capped list, oldest first. */
  attempts(eventId: string, destination: string): string;
  /** A flow's idempotency key: holds the id of the first event that carried it, until its ttl. */
  idempotency(flow: string, key: string): string;
  /**
   * The open deliveries: a sorted set with one member per delivery that has a job and is not
   * yet delivered or dead, scored by its stream entry's ms. The oldest bounds the stream trim.
   */
  readonly openDeliveries: string;
  /** The dispatcher's dead letters: a stream of the entries it gave up on, each with a copy of the entry's fields. */
  readonly dispatchDeadLetters: string;
  /** The copy of a dead-lettered event (the stream entry's fields), kept for replay once the stream entry is trimmed. */
  deadLetterEvent(eventId: string): string;
  /** BullMQ's `prefix` option for every delivery queue. */
  readonly bullPrefix: string;
}

/** The consumer group every dispatcher reads the event stream through. */
export const DISPATCHER_GROUP = 'dispatchers';

/** Idempotency keys come from senders; longer ones are stored as their hash so key names stay bounded. */
export const IDEMPOTENCY_KEY_MAX_BYTES = 256;

export function createKeys(prefix = 'fanout'): FanoutKeys {
  const tagged = `${prefix}:{events}`;
  return {
    prefix,
    eventStream: `${tagged}:stream`,
    event: (eventId) => `${tagged}:event:${eventId}`,
    attempts: (eventId, destination) => `${tagged}:attempts:${eventId}:${destination}`,
    // In the {events} slot so the ingest script checks it and writes the stream atomically.
    // Scoped by flow (whose name has no ':'), so two flows never share a key. `=` marks a key
    // as sent, `#` its SHA-256, so a sent key that looks like a hash cannot meet a hashed one.
    idempotency: (flow, key) =>
      Buffer.byteLength(key) > IDEMPOTENCY_KEY_MAX_BYTES
        ? `${tagged}:idempotency:${flow}:#${createHash('sha256').update(key).digest('hex')}`
        : `${tagged}:idempotency:${flow}:=${key}`,
    // The next three are in the {events} slot too: the dispatch and trim scripts and the
    // worker's MULTI change them together with the stream and the event records.
    openDeliveries: `${tagged}:open-deliveries`,
    dispatchDeadLetters: `${tagged}:dispatch-dead-letters`,
    deadLetterEvent: (eventId) => `${tagged}:dead-letter-event:${eventId}`,
    bullPrefix: `${prefix}:q`,
  };
}
