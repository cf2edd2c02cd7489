import type { BreakerChange, DestinationHealth, DestinationStateName, Replays } from '@fanout/delivery';
import type { Destination } from '@fanout/flows';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueue } from '@fanout/queues';
import { startPeriodic } from './periodic.js';
import { redriveRequest } from './redrive.js';

/** A destination served here: its queue's name and handle. */
export interface GatedDestination {
  readonly name: string;
  readonly flow: string;
  readonly destination: Destination;
  readonly queue: DeliveryQueue;
}

/**
 * What the workers do about a destination's state besides begin's gate: BullMQ's pause of its
 * queue kept in step with it (no job is even fetched while the destination is paused or its
 * breaker open, and Bull Board shows the queue paused), the cooldown's end, one log line per
 * change, and the redrive when a breaker closes.
 */
export interface DestinationGate {
  /** An attempt's outcome changed the destination's breaker. */
  changed(target: GatedDestination, change: BreakerChange): Promise<void>;
  /** begin found the destination gated: its queue fetches nothing more. */
  gated(target: GatedDestination): Promise<void>;
  /** An HTTP 410 at a destination with `onGone: pause`. */
  gone(target: GatedDestination): Promise<void>;
  /** Ends the watch (a redrive under way is the replay engine's: it goes on). */
  stop(): void;
}

export interface DestinationGateDeps {
  readonly health: DestinationHealth;
  /** Where a closing breaker's redrive is started. Without it (a process with no replay engine) the redrive is skipped with a warning. */
  readonly replays?: Pick<Replays, 'start'> | undefined;
  /** The destinations served, at each look. */
  readonly served: () => readonly GatedDestination[];
  readonly logger: Logger;
  /** How often each destination's state is looked at (the cooldown's end, its queue's pause), ms. */
  readonly everyMs: number;
  /** Unix ms. */
  readonly now: () => number;
}

/** One line per change of a destination's state, by the process that made it; a warning whichever way, so a log kept at warn shows every change. */
export function logStateChange(logger: Logger, target: { readonly flow: string; readonly destination: { readonly name: string } }, from: DestinationStateName, to: DestinationStateName, more: Record<string, unknown> = {}): void {
  logger.warn({ flow: target.flow, destination: target.destination.name, from, to, ...more }, 'destination.state_changed');
}

export function startDestinationGate({ health, replays, served, logger, everyMs, now }: DestinationGateDeps): DestinationGate {
  const holdQueue = async ({ queue }: GatedDestination, paused: boolean): Promise<void> => {
    if ((await queue.isPaused()) === paused) return;
    await (paused ? queue.pause() : queue.resume());
  };

  const redrive = async (target: GatedDestination, from: number): Promise<void> => {
    const to = now();
    const fields = { flow: target.flow, destination: target.destination.name, from, to };
    if (!replays) {
      logger.warn(fields, 'destination.redrive_skipped: this process runs no replay engine; replay the outage from the admin API');
      return;
    }
    try {
      const { replay, matched } = await replays.start(redriveRequest(target.flow, target.destination, from, to));
      logger.info({ ...fields, replay, matched }, 'destination.redrive_started');
    } catch (error) {
      logger.error({ ...fields, err: error }, 'destination.redrive_failed');
    }
  };

  // The queue's pause follows the state: paused and open hold it; half-open lets one job in
  // (the probe; whatever else starts meanwhile is gated and pauses it again); closed releases it.
  const watch = startPeriodic(async (stopped) => {
    for (const target of served()) {
      try {
        let view = await health.read(target.name);
        if (view.state === 'open' && (view.until ?? 0) <= now() && (await health.halfOpen(target.name))) {
          logStateChange(logger, target, 'open', 'half-open');
          view = { state: 'half-open' };
        }
        const probing = view.state === 'half-open' && (view.probeUntil ?? 0) > now();
        await holdQueue(target, view.state === 'open' || view.state === 'paused' || probing);
      } catch (error) {
        if (!stopped()) logger.warn({ err: error, queue: target.name }, 'destination.watch_failed');
      }
    }
  }, everyMs);

  return {
    async changed(target, change) {
      if (change.to === 'open') {
        logStateChange(logger, target, change.reopened ? 'half-open' : 'closed', 'open');
        await holdQueue(target, true);
        return;
      }
      logStateChange(logger, target, 'half-open', 'closed');
      await holdQueue(target, false);
      // Not awaited: matching the outage's dead letters should not hold up the probe's job.
      if (target.destination.circuitBreaker?.redrive) void redrive(target, change.outageFrom);
    },
    gated: (target) => holdQueue(target, true),
    async gone(target) {
      const had = await health.pause(target.name, 'gone');
      if (had !== 'paused') logStateChange(logger, target, had, 'paused', { reason: 'HTTP 410 Gone (onGone: pause)' });
      await holdQueue(target, true);
    },
    stop() {
      watch.stop();
    },
  };
}
