import type { ReceivedAttempt } from './recording-receiver.js';

/** One event of an ordered destination's line: where the stream put it (its ingest order) and its key. */
export interface LinedEvent {
  readonly id: string;
  readonly seq: number;
  /** Its stream entry's id, `<ms>-<n>`. */
  readonly streamId: string;
  /** Its ordering key: '' for fifo (one line per destination). */
  readonly key: string;
}

export interface OrderCheck {
  /** Events with an attempt that started before an event ingested earlier, of the same key, was delivered or dead-lettered. Must be 0. */
  readonly outOfOrder: number;
  readonly examples: string[];
}

const isSuccess = (status: number | 'hang'): boolean => typeof status === 'number' && status >= 200 && status < 300;

function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}

/**
 * The earliest moment the destination can know an event settled, from its own attempts:
 * the answer of its first 2xx (a repeat later is allowed), else the end of its last attempt
 * (dead-lettered after it; an unanswered one's start bounds it). Never attempted: never
 * settled, so nothing behind it may start. The worker records the outcome only after it,
 * so a later attempt that starts before this time certainly started before the settle.
 */
function settledAt(attempts: readonly ReceivedAttempt[]): number {
  const delivered = attempts.filter((attempt) => isSuccess(attempt.status)).map((attempt) => attempt.answeredAt ?? Infinity);
  if (delivered.length > 0) return Math.min(...delivered);
  if (attempts.length === 0) return Infinity;
  return Math.max(...attempts.map((attempt) => attempt.answeredAt ?? attempt.receivedAt));
}

/**
 * The promise of `ordering: fifo` and `{ key }`, checked on what the destination got: for
 * events A before B in the stream with the same key, no attempt of B starts before A is
 * delivered or dead-lettered. Repeats of A after that are allowed.
 */
export function checkOrder(destination: string, events: readonly LinedEvent[], attempts: readonly ReceivedAttempt[], origin: number, maxExamples: number): OrderCheck {
  const byId = new Map<string, ReceivedAttempt[]>();
  for (const attempt of attempts) {
    let list = byId.get(attempt.webhookId);
    if (!list) byId.set(attempt.webhookId, (list = []));
    list.push(attempt);
  }
  const lines = new Map<string, LinedEvent[]>();
  for (const event of events) {
    let line = lines.get(event.key);
    if (!line) lines.set(event.key, (line = []));
    line.push(event);
  }
  const at = (ms: number): string => (Number.isFinite(ms) ? `+${((ms - origin) / 1_000).toFixed(3)}s` : 'never');
  const examples: string[] = [];
  let outOfOrder = 0;
  for (const [key, line] of lines) {
    line.sort((a, b) => compareStreamIds(a.streamId, b.streamId));
    /** The latest settle of the events before, and which one it was. */
    let bar = -Infinity;
    let barEvent: LinedEvent | undefined;
    for (const event of line) {
      const own = byId.get(event.id) ?? [];
      const early = own.find((attempt) => attempt.receivedAt < bar);
      if (early && barEvent) {
        outOfOrder += 1;
        if (examples.length < maxExamples) {
          examples.push(`${destination}: out of order on key "${key}": seq=${event.seq} (${event.id}, ${event.streamId}) attempted at ${at(early.receivedAt)}, before seq=${barEvent.seq} (${barEvent.id}, ${barEvent.streamId}) settled at ${at(bar)}`);
        }
      }
      const settled = settledAt(own);
      if (settled > bar) {
        bar = settled;
        barEvent = event;
      }
    }
  }
  return { outOfOrder, examples };
}

/** The most requests the destination had unanswered at once. */
export function mostInFlight(attempts: readonly ReceivedAttempt[]): number {
  const moments = attempts.flatMap((attempt) => (attempt.answeredAt === undefined ? [] : [[attempt.receivedAt, 1] as const, [attempt.answeredAt, -1] as const]));
  // An answer before a request at the same ms: back to back is not at once.
  moments.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let most = 0;
  for (const [, step] of moments) most = Math.max(most, (now += step));
  return most;
}
