/**
 * Which dead letters of a destination a replay takes: all of them, narrowed by each field
 * given (every field must match).
 */
export interface ReplayFilter {
  /** Event ids. */
  readonly ids?: readonly string[] | undefined;
  /** Dead-lettered at or after (unix ms). */
  readonly from?: number | undefined;
  /** Dead-lettered at or before (unix ms). */
  readonly to?: number | undefined;
  /** A substring of the reason it died (its last error). */
  readonly error?: string | undefined;
}

/** A dead letter as a filter sees it. */
export interface DeadLetterFacts {
  readonly eventId: string;
  /** When it was dead-lettered (unix ms). */
  readonly deadLetteredAt: number;
  readonly error: string;
}

export function matchesFilter({ ids, from, to, error }: ReplayFilter, facts: DeadLetterFacts): boolean {
  return (
    (ids === undefined || ids.includes(facts.eventId)) &&
    (from === undefined || facts.deadLetteredAt >= from) &&
    (to === undefined || facts.deadLetteredAt <= to) &&
    (error === undefined || facts.error.includes(error))
  );
}

const RATE = /^(\d+(?:\.\d+)?)\/(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3_600 } as const;

/** The fastest replay rate: beyond it a replay is no gentler than replaying at once. */
export const MAX_REPLAY_RATE_PER_SECOND = 10_000;

/**
 * A replay rate as the admin API takes it, `<count>/<s|m|h>` (`50/s`, `600/m`), in deliveries
 * per second; throws a plain-words Error for anything else.
 */
export function parseReplayRate(text: string): number {
  const match = RATE.exec(text.trim());
  if (!match) throw new Error(`expected deliveries per second, minute or hour, such as "50/s" or "600/m", got ${JSON.stringify(text)}`);
  const perSecond = Number(match[1]) / UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  if (perSecond <= 0) throw new Error(`a replay rate must be above 0, got ${JSON.stringify(text)}`);
  if (perSecond > MAX_REPLAY_RATE_PER_SECOND) throw new Error(`a replay rate is at most ${MAX_REPLAY_RATE_PER_SECOND}/s, got ${JSON.stringify(text)}`);
  return perSecond;
}

/** A rate as parseReplayRate reads it, per second. */
export function formatReplayRate(perSecond: number): string {
  return `${perSecond}/s`;
}
