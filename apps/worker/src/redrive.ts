import type { ReplayRequest } from '@fanout/delivery';
import type { Destination } from '@fanout/flows';

/** A redrive's pace when the destination has no rateLimit: dead letters replayed per second. */
export const REDRIVE_DEFAULT_PER_SECOND = 10;

/** The requester a redrive is audited under in GET /replays. */
export const REDRIVE_REQUESTER = 'circuit-breaker';

/** Dead letters replayed per second by a redrive: the destination's rateLimit, or REDRIVE_DEFAULT_PER_SECOND. */
export function redrivePerSecond({ rateLimit }: Pick<Destination, 'rateLimit'>): number {
  return rateLimit ? (rateLimit.max * 1_000) / rateLimit.perMs : REDRIVE_DEFAULT_PER_SECOND;
}

/**
 * The replay a closing breaker asks for: the destination's dead letters that died from `from`
 * to `to` (unix ms, the outage), on the replay engine, so it is leased, resumed after a restart
 * and audited like one from the admin API.
 */
export function redriveRequest(flow: string, destination: Pick<Destination, 'name' | 'rateLimit'>, from: number, to: number): ReplayRequest {
  return { flow, destination: destination.name, filter: { from, to }, ratePerSecond: redrivePerSecond(destination), reason: 'circuit breaker closed', requester: REDRIVE_REQUESTER };
}
