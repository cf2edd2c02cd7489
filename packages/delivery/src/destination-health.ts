import { runScript, type FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { DELIVERY_SCRIPTS } from './scripts.js';

const HALF_OPEN = DELIVERY_SCRIPTS.get('halfOpen');
const PAUSE = DELIVERY_SCRIPTS.get('pauseDestination');
const RESUME = DELIVERY_SCRIPTS.get('resumeDestination');

/** Where a destination stands: its circuit breaker's state, or paused by an operator or a 410. */
export const DESTINATION_STATES = ['closed', 'open', 'half-open', 'paused'] as const;
export type DestinationStateName = (typeof DESTINATION_STATES)[number];

export interface DestinationHealthView {
  readonly state: DestinationStateName;
  /** Open: when its cooldown ends (unix ms). */
  readonly until?: number;
  /** Half-open: until when its probe is under way (unix ms); absent when none is. */
  readonly probeUntil?: number;
}

/** Why a destination was paused: an operator's request, or an HTTP 410 with `onGone: pause`. */
export type PauseReason = 'operator' | 'gone';

/**
 * The destinations' health outside an attempt: reading it, the cooldown's end (open →
 * half-open), pause and resume. The attempt's own transitions (begin and its outcome) change
 * it in their scripts. Each is by the destination's queue name, over every partition (one
 * by default).
 */
export interface DestinationHealth {
  read(queue: string): Promise<DestinationHealthView>;
  /** Open → half-open where the cooldown has ended: true when this call changed it. */
  halfOpen(queue: string): Promise<boolean>;
  /** → paused; answers the state it had. */
  pause(queue: string, reason: PauseReason): Promise<DestinationStateName>;
  /** paused → closed; answers the state it had (an open breaker stays open). */
  resume(queue: string): Promise<DestinationStateName>;
}

const STRENGTH: Record<DestinationStateName, number> = { closed: 0, 'half-open': 1, open: 2, paused: 3 };
const isState = (value: string): value is DestinationStateName => (DESTINATION_STATES as readonly string[]).includes(value);
/** Of the partitions' states, the one that holds the most back. */
const strongest = (states: readonly DestinationStateName[]): DestinationStateName => states.reduce((a, b) => (STRENGTH[b] > STRENGTH[a] ? b : a), 'closed');

export function destinationHealth({ redis, keys, now }: { readonly redis: Redis; readonly keys: FanoutKeys; readonly now: () => number }): DestinationHealth {
  const healthKeys = (queue: string) => keys.partitions.map((partition) => partition.destinationHealth(queue));
  return {
    async read(queue) {
      const views = await Promise.all(
        healthKeys(queue).map(async (key): Promise<DestinationHealthView> => {
          const [state = null, until = null, probeUntil = null] = await redis.hmget(key, 'state', 'until', 'probeUntil');
          const known = state !== null && isState(state) ? state : 'closed';
          return { state: known, ...(known === 'open' && until ? { until: Number(until) } : {}), ...(known === 'half-open' && probeUntil ? { probeUntil: Number(probeUntil) } : {}) };
        }),
      );
      const state = strongest(views.map((view) => view.state));
      return views.find((view) => view.state === state) ?? { state };
    },
    async halfOpen(queue) {
      const changed = await Promise.all(healthKeys(queue).map((key) => runScript<number>(redis, HALF_OPEN, [key, now()])));
      return changed.some((one) => one === 1);
    },
    async pause(queue, reason) {
      return strongest(await Promise.all(healthKeys(queue).map((key) => runScript<DestinationStateName>(redis, PAUSE, [key, now(), reason]))));
    },
    async resume(queue) {
      return strongest(await Promise.all(healthKeys(queue).map((key) => runScript<DestinationStateName>(redis, RESUME, [key]))));
    },
  };
}
