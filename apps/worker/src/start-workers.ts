import { setMaxListeners } from 'node:events';
import { destinationHealth, hasWaitingLines, type DeliveryState, type Replays } from '@fanout/delivery';
import type { DestinationRegistry } from '@fanout/destinations';
import type { Flow } from '@fanout/flows';
import type { Logger } from '@fanout/observability';
import { destinationQueues, type DestinationQueue } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { startDeadLetterRetention } from './dead-letter-retention.js';
import { startDestinationWorker, type DestinationWorker } from './destination-worker.js';
import { LINE_SWEEP, startLineSweep, type LineSweepOptions } from './line-sweep.js';
import type { DeliverDeps, DeliveryMetrics } from './deliver.js';
import { startDestinationGate } from './destination-gate.js';
import { startPeriodic } from './periodic.js';
import { settlesWithin } from './settles-within.js';
import type { StallOptions } from './worker-options.js';

/** What the workers need: the delivery state, a client per destination, the flows and BullMQ's connection. */
export interface WorkerDeps extends StallOptions {
  /** The loaded flows: one BullMQ worker per destination. */
  readonly flows: readonly Flow[];
  /** BullMQ's connection, shared by every worker (each duplicates it for its blocking reads); needs `maxRetriesPerRequest: null`. The caller closes it. */
  readonly connection: Redis;
  readonly keys: FanoutKeys;
  readonly state: DeliveryState;
  readonly destinations: DestinationRegistry;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  /** Unix ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How often dead letters past their destination's retention are removed, in ms. Default 60000. */
  readonly deadLetterSweepEveryMs?: number;
  /** How often the lines of ordered destinations are looked at for one stuck without a job, and after how long without moving a line counts as stuck, in ms. Default LINE_SWEEP. */
  readonly lineSweep?: LineSweepOptions;
  /** When the worker of a destination removed from the flows stops. Default RETIRE. */
  readonly retire?: RetireOptions;
  /** How often each destination's state is looked at (a breaker's cooldown ending, its queue's pause kept in step), ms. Default 1000. */
  readonly gateWatchEveryMs?: number;
  /** The replay engine a closing breaker's redrive is started on (`circuitBreaker.redrive`); without it the redrive is skipped with a warning. */
  readonly replays?: Pick<Replays, 'start'> | undefined;
}

/**
 * A destination removed from the flows (a reload) keeps its worker until its queue is drained:
 * nothing waiting, delayed, active or held in a line, checked every `checkEveryMs`, for
 * `quietMs` in a row. The quiet time covers the events of the flow versions that had the
 * destination and are not dispatched yet (other processes reload seconds apart; a dispatcher
 * may be behind): they still get their deliveries there.
 */
export interface RetireOptions {
  readonly checkEveryMs: number;
  readonly quietMs: number;
}

/** Checked every 5 s, drained once empty for a minute. */
export const RETIRE: RetireOptions = { checkEveryMs: 5_000, quietMs: 60_000 };

export interface DeliveryWorkers {
  /** Resolves once every worker is connected. */
  waitUntilReady(): Promise<void>;
  /**
   * Takes no more jobs and waits up to `graceMs` (ms) for the attempts in flight to finish and
   * be recorded. Attempts still in flight then end and their jobs go back to their queue,
   * handed back with no retry spent; within HANDBACK_MS more the workers close by force,
   * so stop returns also when a destination or Redis does not answer. A job that could not be
   * handed back (Redis unreachable) stays active until its lock expires and the stalled check
   * of a live worker runs it again.
   */
  stop(graceMs: number): Promise<void>;
  /**
   * Serves the destinations of `flows` from now on: a worker starts for each new destination;
   * a changed one gets a new worker and the old one finishes its attempts in flight, then
   * stops; a removed one is retired (RetireOptions). Resolves once the new workers are connected.
   */
  update(flows: readonly Flow[]): Promise<void>;
}

/** Same settings: the worker keeps running. Destinations are plain data (frozen, no functions). */
const sameDestination = (a: DestinationQueue, b: DestinationQueue): boolean => a.flow.name === b.flow.name && JSON.stringify(a.destination) === JSON.stringify(b.destination);

/** The queue states a retiring destination must have none of. */
const UNDRAINED_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children'] as const;

/** How long a stop waits, after grace, for cut-short attempts' jobs to be handed back: a Redis round trip or two. */
export const HANDBACK_MS = 1_000;

/** Starts one BullMQ worker per destination queue of the flows; they deliver until stopped. */
export function startWorkers(deps: WorkerDeps): DeliveryWorkers {
  const shutdown = new AbortController();
  // Every attempt in flight, across all destinations, listens on it.
  setMaxListeners(0, shutdown.signal);
  const { state, metrics, logger, now = Date.now } = deps;
  const gate = startDestinationGate({
    health: destinationHealth({ redis: deps.connection, keys: deps.keys, now }),
    replays: deps.replays,
    // Read at each look: the destinations served change with a reload.
    served: () => served().map(({ name, flow, destination, queue }) => ({ name, flow: flow.name, destination, queue })),
    logger,
    everyMs: deps.gateWatchEveryMs ?? 1_000,
    now,
  });
  const deliverDeps: DeliverDeps = { state, metrics, logger, now, shutdown: shutdown.signal, gate };
  const recording = new Set<Promise<void>>();
  const unitDeps = { connection: deps.connection, keys: deps.keys, state, destinations: deps.destinations, metrics, logger, stall: deps, deliver: deliverDeps, recording };
  const retire = deps.retire ?? RETIRE;

  /** The workers of the flows' destinations, by queue name. */
  const active = new Map<string, DestinationWorker>();
  /** Removed destinations still draining, and since when their queue has been found empty. */
  const retiring = new Map<string, { readonly unit: DestinationWorker; quietSince?: number }>();
  /** Every worker not yet closed, with its pause once asked (it waits for its attempts in flight). */
  const running = new Map<DestinationWorker, Promise<void> | undefined>();
  /** Workers finishing their attempts before they close (replaced or retired). */
  const leaving = new Set<Promise<void>>();
  let stopping = false;

  const start = (queue: DestinationQueue): DestinationWorker => {
    const unit = startDestinationWorker(unitDeps, queue);
    running.set(unit, undefined);
    return unit;
  };
  const pause = (unit: DestinationWorker): Promise<void> => {
    let paused = running.get(unit);
    if (!paused) running.set(unit, (paused = unit.worker.pause()));
    return paused;
  };
  const close = async (unit: DestinationWorker, force: boolean): Promise<void> => {
    await unit.worker.close(force);
    await unit.queue.close();
    running.delete(unit);
  };
  /** Takes no more jobs, lets the ones in flight finish, then closes; a stop meanwhile cuts it short like any other. */
  const leave = (unit: DestinationWorker, why: 'replaced' | 'retired'): void => {
    const left = pause(unit)
      .then(() => (stopping ? undefined : close(unit, false)))
      .then(() => logger.info({ queue: unit.name, why }, why === 'retired' ? 'worker.destination_retired' : 'worker.destination_replaced'))
      .catch((error: unknown) => logger.warn({ err: error, queue: unit.name }, 'worker.close_failed'))
      .finally(() => leaving.delete(left));
    leaving.add(left);
  };
  const served = (): DestinationWorker[] => [...active.values(), ...[...retiring.values()].map(({ unit }) => unit)];

  for (const queue of destinationQueues(deps.flows)) active.set(queue.name, start(queue));
  const retention = startDeadLetterRetention(
    () => served().map(({ queue, destination }) => ({ queue, retentionMs: destination.deadLetter.retentionMs })),
    deps.deadLetterSweepEveryMs ?? 60_000,
    logger,
  );
  const lines = startLineSweep({ state, keys: deps.keys, redis: deps.connection, served: () => served().filter(({ destination }) => destination.ordering !== 'none'), options: deps.lineSweep ?? LINE_SWEEP, logger });
  const drains = startPeriodic(async (stopped) => {
    for (const [name, entry] of retiring) {
      try {
        const counts = await entry.unit.queue.getJobCounts(...UNDRAINED_STATES);
        let undrained = Object.values(counts).some((count) => count > 0);
        if (!undrained && entry.unit.destination.ordering !== 'none') {
          for (const partition of deps.keys.partitions) undrained ||= await hasWaitingLines(deps.connection, partition, name);
        }
        if (stopped() || retiring.get(name) !== entry) continue;
        if (undrained) delete entry.quietSince;
        else if (entry.quietSince === undefined) entry.quietSince = now();
        else if (now() - entry.quietSince >= retire.quietMs) {
          retiring.delete(name);
          leave(entry.unit, 'retired');
        }
      } catch (error) {
        if (!stopped()) logger.warn({ err: error, queue: name }, 'worker.drain_check_failed');
      }
    }
  }, retire.checkEveryMs);

  return {
    waitUntilReady: async () => void (await Promise.all(served().map((unit) => unit.ready))),
    async update(flows) {
      if (stopping) return;
      const next = new Map(destinationQueues(flows).map((queue) => [queue.name, queue]));
      const started: DestinationWorker[] = [];
      for (const [name, queue] of next) {
        const current = active.get(name);
        if (current && sameDestination(current, queue)) continue;
        const draining = retiring.get(name);
        retiring.delete(name);
        if (draining && sameDestination(draining.unit, queue)) {
          // Added back as it was: the draining worker serves it again.
          active.set(name, draining.unit);
          logger.info({ queue: name }, 'worker.destination_kept');
          continue;
        }
        const unit = start(queue);
        active.set(name, unit);
        started.push(unit);
        logger.info({ queue: name, replaces: current || draining ? true : undefined }, 'worker.destination_started');
        // The new worker runs before the old one stops taking jobs, so the destination is never left unserved.
        const old = current ?? draining?.unit;
        if (old) leave(old, 'replaced');
      }
      for (const [name, unit] of active) {
        if (next.has(name)) continue;
        active.delete(name);
        retiring.set(name, { unit });
        logger.info({ queue: name, quietMs: retire.quietMs }, 'worker.destination_retiring');
      }
      await Promise.all(started.map((unit) => unit.ready));
    },
    async stop(graceMs) {
      stopping = true;
      retention.stop();
      lines.stop();
      gate.stop();
      drains.stop();
      const units = [...running.keys()];
      // pause() stops fetching and waits for the jobs in flight, BullMQ's own completion
      // included. Not close(): BullMQ memoizes it, so a graceful close could not be forced later.
      const drained = Promise.allSettled(units.map(pause)).then(() => Promise.allSettled(recording));
      // Attempts waiting in a batch would otherwise wait out its maxWait, and nothing more will join.
      deps.destinations.drain();
      if (!(await settlesWithin(drained, graceMs))) {
        shutdown.abort();
        await settlesWithin(drained, HANDBACK_MS);
      }
      // Forced, close neither waits for jobs nor talks to Redis; a closed worker also leaves
      // alone a job whose hand-back is still waiting on Redis, instead of retrying it.
      await Promise.allSettled(units.map((unit) => close(unit, true)));
      await Promise.allSettled(leaving);
    },
  };
}
