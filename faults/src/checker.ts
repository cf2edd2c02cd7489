import { matches, type DestinationSpec } from './flow-file.js';
import type { SendOutcome } from './load-generator.js';
import { checkOrder, type LinedEvent } from './order-check.js';
import type { ReceivedAttempt } from './recording-receiver.js';

/**
 * Jepsen's queue counters for one destination, from what the clients were told (the load
 * generator's outcomes) and what the destination got (the recording receiver).
 */
export interface DeliveryCounters {
  readonly destination: string;
  /** Events answered 202 that are meant for this destination (`meantFor`), poison ones excepted. */
  readonly expected: number;
  /** Of those, delivered (answered 2xx) at least once. */
  readonly delivered: number;
  /** Answered 202, meant for this destination, never delivered. Must be 0. */
  readonly lost: number;
  /** Events (webhook-ids) delivered more than once. */
  readonly duplicated: number;
  /** Deliveries beyond the first, all events together. */
  readonly extraDeliveries: number;
  /** The most deliveries any one event got. */
  readonly maxDeliveries: number;
  /**
   * Duplicates nothing explains. An extra delivery is explained by a fault that caught an
   * attempt of that event in flight (unanswered, or answered moments before), or by an
   * attempt the worker itself recorded as failed although the destination answered 2xx (its
   * answer came after the timeout): at-least-once retries by design. Must be 0: a worker
   * killed mid-attempt may cause one repeat of that attempt, nothing more.
   */
  readonly unexplainedDuplicates: number;
  /** Requests the destination got that no worker recorded as an attempt (cut off by a fault). */
  readonly unrecordedAttempts: number;
  /** Events the destination got that no client was answered 202 for, nor left in doubt: never sent, refused, another event's seq, or not meant for it. Must be 0. */
  readonly unexpected: number;
  /** Events whose request ended in doubt (reset, timeout, 503 REDIS_TIMEOUT) and that were delivered anyway: allowed. */
  readonly indeterminateDelivered: number;
  /** Every request the destination got, failed attempts included. */
  readonly requests: number;
  /**
   * At an ordered destination: events with an attempt that started before an event ingested
   * before it (of the same key) was delivered or dead-lettered. Must be 0. Always 0 elsewhere.
   */
  readonly outOfOrder: number;
}

export interface CheckInput {
  readonly outcomes: ReadonlyMap<number, SendOutcome>;
  /** The event type sent with each sequence number. */
  readonly types: ReadonlyMap<number, string>;
  readonly destinations: readonly DestinationSpec[];
  /**
   * Whether the event of `seq` is meant for `destination`. Default: the destination's filter
   * takes the event's type. A rollout narrows it to the destinations of the flow version
   * that accepted the event (the outcome's `via`).
   */
  readonly meantFor?: (destination: DestinationSpec, seq: number) => boolean;
  readonly attempts: (destination: string) => readonly ReceivedAttempt[];
  /** Per destination, per webhook-id: how many faults caught an attempt of it in flight. */
  readonly inFlightAtFaults: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Per destination, per webhook-id: the attempts the workers recorded (the delivery's attempt log), and how many of them failed. */
  readonly recordedAttempts?: ReadonlyMap<string, ReadonlyMap<string, RecordedAttempts>>;
  /**
   * Per destination, how many attempts the faults may have cut off before the worker recorded
   * them: each killed (or stopped) worker process had at most `concurrency` attempts in flight
   * per destination. Such an attempt may be repeated once. Default 0: no fault hit a worker.
   */
  readonly repeatBudget?: ReadonlyMap<string, number>;
  /** Unix ms the run started, for the times in examples. Default 0. */
  readonly origin?: number;
  /** Per destination, the sequence numbers it refuses for good (poison): they end dead-lettered, not delivered. */
  readonly poison?: ReadonlyMap<string, ReadonlySet<number>>;
  /** The ordering key of each seq (the load's `keyOf`), for destinations ordered by key; a seq without one has the key ''. */
  readonly keys?: ReadonlyMap<number, string>;
  /** Each stored event's stream id (its ingest order), by event id: what ordered destinations are checked against. */
  readonly streamIds?: ReadonlyMap<string, string>;
}

export interface RecordedAttempts {
  readonly total: number;
  readonly failed: number;
}

export interface CheckResult {
  readonly destinations: DeliveryCounters[];
  /** A few examples of each kind of violation, for the failure message. */
  readonly examples: string[];
}

const MAX_EXAMPLES = 12;
const isSuccess = (status: number | 'hang'): boolean => typeof status === 'number' && status >= 200 && status < 300;

export function checkDeliveries(input: CheckInput): CheckResult {
  const examples: string[] = [];
  const example = (text: string): void => void (examples.length < MAX_EXAMPLES && examples.push(text));
  const results = input.destinations.map((destination): DeliveryCounters => {
    const name = destination.name;
    const poison = input.poison?.get(name) ?? new Set<number>();
    const meantFor = (seq: number): boolean => (input.meantFor ? input.meantFor(destination, seq) : matches(destination, input.types.get(seq) ?? ''));
    const deliveries = new Map<string, number>();
    const unexpected = new Set<string>();
    /** The one webhook-id an indeterminate seq may arrive with: a request stores at most one event. */
    const idOfIndeterminate = new Map<number, string>();
    let requests = 0;

    for (const attempt of input.attempts(name)) {
      requests += 1;
      const reason = unexpectedReason(attempt, input.outcomes.get(attempt.seq ?? -1), meantFor, idOfIndeterminate);
      if (reason) {
        if (!unexpected.has(attempt.webhookId)) example(`${name}: unexpected ${attempt.webhookId || '(no webhook-id)'} seq=${attempt.seq ?? '?'}: ${reason}`);
        unexpected.add(attempt.webhookId);
      }
      if (isSuccess(attempt.status)) deliveries.set(attempt.webhookId, (deliveries.get(attempt.webhookId) ?? 0) + 1);
    }

    let expected = 0;
    let delivered = 0;
    let lost = 0;
    let indeterminateDelivered = 0;
    const lined: LinedEvent[] = [];
    for (const [seq, outcome] of input.outcomes) {
      if (!meantFor(seq)) continue;
      const storedAs = outcome.kind === 'acked' ? outcome.id : outcome.kind === 'indeterminate' ? idOfIndeterminate.get(seq) : undefined;
      const streamId = storedAs === undefined ? undefined : input.streamIds?.get(storedAs);
      if (destination.ordering && storedAs !== undefined && streamId !== undefined) {
        lined.push({ id: storedAs, seq, streamId, key: destination.ordering === 'fifo' ? '' : (input.keys?.get(seq) ?? '') });
      }
      if (outcome.kind === 'indeterminate') {
        const id = idOfIndeterminate.get(seq);
        if (id !== undefined && (deliveries.get(id) ?? 0) > 0) indeterminateDelivered += 1;
        continue;
      }
      if (outcome.kind !== 'acked' || poison.has(seq)) continue;
      expected += 1;
      if ((deliveries.get(outcome.id) ?? 0) > 0) delivered += 1;
      else {
        lost += 1;
        example(`${name}: lost seq=${seq} id=${outcome.id}`);
      }
    }

    let duplicated = 0;
    let extraDeliveries = 0;
    let maxDeliveries = 0;
    let unexplainedDuplicates = 0;
    const inFlight = input.inFlightAtFaults.get(name);
    const recorded = input.recordedAttempts?.get(name);
    const requestsById = new Map<string, number>();
    for (const attempt of input.attempts(name)) requestsById.set(attempt.webhookId, (requestsById.get(attempt.webhookId) ?? 0) + 1);
    let unrecordedAttempts = 0;
    let budget = input.repeatBudget?.get(name) ?? 0;
    for (const [id, count] of deliveries) {
      maxDeliveries = Math.max(maxDeliveries, count);
      const unrecorded = Math.max(0, (requestsById.get(id) ?? 0) - (recorded?.get(id)?.total ?? 0));
      unrecordedAttempts += unrecorded;
      if (count < 2) continue;
      duplicated += 1;
      extraDeliveries += count - 1;
      const atFaults = inFlight?.get(id) ?? 0;
      const failedAttempts = recorded?.get(id)?.failed ?? 0;
      // What the fault windows and the recorded failures leave unexplained may be attempts a fault cut off unrecorded, within the budget.
      const fromCutOff = Math.min(unrecorded, budget, Math.max(0, count - 1 - atFaults - failedAttempts));
      budget -= fromCutOff;
      if (count - 1 > atFaults + failedAttempts + fromCutOff) {
        unexplainedDuplicates += 1;
        const times = input
          .attempts(name)
          .filter((attempt) => attempt.webhookId === id)
          .map((attempt) => `+${((attempt.receivedAt - (input.origin ?? 0)) / 1_000).toFixed(2)}s→${attempt.status}${attempt.answeredAt ? `@+${((attempt.answeredAt - (input.origin ?? 0)) / 1_000).toFixed(2)}s` : ''}`);
        example(`${name}: ${id} delivered ${count} times (${times.join(', ')}); in flight at ${atFaults} fault window(s), ${failedAttempts} recorded failures, ${unrecorded} unrecorded attempts, repeat budget left ${budget}`);
      }
    }

    const order = checkOrder(name, lined, input.attempts(name), input.origin ?? 0, MAX_EXAMPLES - examples.length);
    examples.push(...order.examples);

    return { destination: name, expected, delivered, lost, duplicated, extraDeliveries, maxDeliveries, unexplainedDuplicates, unrecordedAttempts, unexpected: unexpected.size, indeterminateDelivered, requests, outOfOrder: order.outOfOrder };
  });
  return { destinations: results, examples };
}

function unexpectedReason(
  attempt: ReceivedAttempt,
  outcome: SendOutcome | undefined,
  meantFor: (seq: number) => boolean,
  idOfIndeterminate: Map<number, string>,
): string | undefined {
  if (attempt.webhookId === '') return 'no webhook-id header';
  if (attempt.seq === undefined) return 'a body the load generator never sent';
  if (!outcome) return 'a sequence number never sent';
  if (outcome.kind === 'refused') return `its request was refused (${outcome.reason})`;
  if (!meantFor(attempt.seq)) return 'not meant for this destination (its filter, or the flow version that accepted it)';
  if (outcome.kind === 'acked') return outcome.id === attempt.webhookId ? undefined : `seq was answered 202 as ${outcome.id}`;
  const known = idOfIndeterminate.get(attempt.seq);
  if (known === undefined) idOfIndeterminate.set(attempt.seq, attempt.webhookId);
  else if (known !== attempt.webhookId) return `seq already arrived as ${known}`;
  return undefined;
}
