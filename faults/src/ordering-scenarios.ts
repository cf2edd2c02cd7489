import type { DestinationSpec } from './flow-file.js';
import type { Harness } from './harness.js';
import { mostInFlight } from './order-check.js';
import { portOwners } from './port-owners.js';
import type { ReceivedAttempt } from './recording-receiver.js';
import { ANSWER_WINDOW_MS, atTimes, faultTimes, killDispatchers, killRedis, pauseRedis, RECOVERY, runScenario, sleep, waitUntil, type Inject, type Injected, type Scenario, type ScenarioConfig, type Setup } from './scenarios.js';

/** The ordered destinations' names: one line for `fifo`, one per key for `keyed`. */
export const FIFO = 'fifo';
export const KEYED = 'keyed';
/** How many keys the load spreads its events over (`$.key`: k0…k7). */
const KEYS = 8;
const keyOf = (seq: number): string => `k${seq % KEYS}`;

/** A fifo destination and one keyed by `$.key` at concurrency 4, with retries enough to outlast every fault. */
export function orderedDestinations(config: ScenarioConfig): DestinationSpec[] {
  const base = { attempts: 12, timeoutMs: RECOVERY[config.recovery].destinationTimeoutMs, retryDelayMs: 200, maxRetryDelayMs: 1_000 };
  return [
    { name: FIFO, ...base, concurrency: 1, ordering: 'fifo' },
    { name: KEYED, ...base, concurrency: 4, ordering: 'key' },
  ];
}

/** Two dispatchers and two workers on the ordered destinations, events keyed k0…k7; 100 ms answers keep an attempt in flight most of the time. */
function orderedSetup(config: ScenarioConfig, more: Partial<Setup> = {}): Setup {
  return { destinations: orderedDestinations(config), topology: { ingress: 1, dispatcher: 2, worker: 2 }, keyOf, receiverDelayMs: 100, ...more };
}

/**
 * The longest a fifo line may wait after the worker of its attempt in flight is killed: the
 * ordered jobs' lock (5 s) and two stalled checks (1 s each) of apps/worker ORDERED_STALL,
 * doubled for a starved machine.
 */
const FIFO_STALL_BOUND_MS = 14_000;
/**
 * The worker-kill scenario's rate at most: about what its fifo line, one 100 ms answer at a
 * time, sustains on two busy cores. Faster, the line's backlog outlasts the settle deadline.
 */
const FIFO_KILL_RATE = 8;

/** The first attempt at `destination` received after `since` that did not come from `ports` (the killed process's). */
function nextAttempt(harness: Harness, destination: string, since: number, ports: ReadonlySet<number>): ReceivedAttempt | undefined {
  return harness.receiver.attempts(destination).find((attempt) => attempt.receivedAt > since && !ports.has(attempt.fromPort ?? 0));
}

/**
 * Adds to a scenario's checks how many attempts each ordered destination had in flight at
 * once: at most its concurrency (fifo: 1) across every worker process. `strict` where no
 * fault touches a worker; elsewhere a job whose lock was lost may repeat beside the next one,
 * which the promise allows, so it is only reported.
 */
function withConcurrencyCheck(specs: readonly DestinationSpec[], strict: boolean, inject: Inject): Inject {
  return async (harness, load, random, loadMs) => {
    const injected = await inject(harness, load, random, loadMs);
    return {
      ...injected,
      async after(h, settled) {
        const before = injected.after ? await injected.after(h, settled) : { violations: [], examples: [] };
        const counts = specs.map((spec) => ({ spec, most: mostInFlight(h.receiver.attempts(spec.name)) }));
        const over = counts.filter(({ spec, most }) => most > spec.concurrency);
        return {
          ...before,
          violations: [...before.violations, ...(strict ? over.map(({ spec, most }) => `${spec.name}: ${most} attempts in flight at once, concurrency ${spec.concurrency}`) : [])],
          notes: [...(before.notes ?? []), `most attempts in flight at once: ${counts.map(({ spec, most }) => `${spec.name} ${most} (concurrency ${spec.concurrency})`).join(', ')}`],
        };
      },
    } satisfies Injected;
  };
}

export const orderedDispatcherKill: Scenario = {
  name: 'ordered-dispatcher-kill',
  summary:
    'fifo and keyed destinations; SIGKILL one of two dispatchers mid-batch, restart it: the other takes the dispatch lease and claims its entries before new ones. out of order 0, lost 0, unexpected 0.',
  run: (config) => runScenario('ordered-dispatcher-kill', config, orderedSetup(config, { receiverDelayMs: 20 }), withConcurrencyCheck(orderedDestinations(config), true, killDispatchers(config))),
};

export const orderedWorkerKill: Scenario = {
  name: 'ordered-worker-kill',
  summary:
    'fifo and keyed destinations, two worker processes; SIGKILL the worker whose fifo attempt is in flight, restart it. The line waits for that attempt\'s job to come back (its 5 s lock), nothing behind it goes first: ' +
    `out of order 0, lost 0, unexpected 0; the fifo stall (kill to next attempt) under ${FIFO_STALL_BOUND_MS / 1_000} s.`,
  run: (config) =>
    runScenario('ordered-worker-kill', config, orderedSetup(config, { ratePerSecond: Math.min(config.ratePerSecond, FIFO_KILL_RATE) }), withConcurrencyCheck(orderedDestinations(config), false, async (harness, _load, random, loadMs) => {
      const violations: string[] = [];
      const stalls: string[] = [];
      // Each kill catches another event: one caught at every kill would be failed by BullMQ's maxStalledCount, by design.
      const caughtBefore = new Set<number | undefined>();
      await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
        const inFlight = (): ReceivedAttempt | undefined =>
          harness.receiver.attempts(FIFO).find((attempt) => attempt.answeredAt === undefined && attempt.status !== 'hang' && !caughtBefore.has(attempt.seq));
        await waitUntil(() => inFlight() !== undefined, 5_000);
        const attempt = inFlight();
        const owners = await portOwners();
        const pid = attempt?.fromPort === undefined ? undefined : owners.get(attempt.fromPort);
        const holder = harness.workers.find((worker) => worker.pid !== undefined && worker.pid === pid);
        const target = holder ?? random.pick(harness.workers);
        if (holder) caughtBefore.add(attempt?.seq);
        const ports = new Set([...owners].filter(([, owner]) => owner === target.pid).map(([port]) => port));
        const killedAt = Date.now();
        await target.signal('SIGKILL');
        await sleep(300);
        const caught = harness.markInFlight(ANSWER_WINDOW_MS);
        harness.workersHit(1);
        harness.fault('SIGKILL', target.name, holder ? `it had fifo seq=${attempt?.seq ?? '?'} in flight; ${caught} attempts in flight (any destination)` : `no fifo attempt in flight seen; ${caught} attempts in flight`, killedAt);
        const restarted = target.start();
        // The stall: from the kill to the fifo destination's next attempt from any other process.
        const resumed = await waitUntil(() => nextAttempt(harness, FIFO, killedAt, ports) !== undefined, 3 * FIFO_STALL_BOUND_MS, 20);
        const next = nextAttempt(harness, FIFO, killedAt, ports);
        const stallMs = next ? next.receivedAt - killedAt : Infinity;
        stalls.push(`${next ? `${stallMs} ms` : 'none'}${holder ? '' : ' (kill missed the fifo attempt)'}`);
        if (holder && (!resumed || stallMs > FIFO_STALL_BOUND_MS)) violations.push(`fifo stalled ${next ? `${stallMs} ms` : `over ${3 * FIFO_STALL_BOUND_MS} ms`} after ${target.name}'s kill, bound ${FIFO_STALL_BOUND_MS} ms`);
        await restarted;
      });
      return { violations, notes: [`fifo stall after kill -9 of the worker with its attempt in flight (kill → next attempt): ${stalls.join(', ')}`] };
    })),
};

export const orderedRedisKill: Scenario = {
  name: 'ordered-redis-kill',
  summary: 'fifo and keyed destinations; SIGKILL redis-server, restart it from its AOF after 0.2-1 s: lines, lease and records come back as written. out of order 0, lost 0, unexpected 0.',
  run: (config) => runScenario('ordered-redis-kill', config, orderedSetup(config, { receiverDelayMs: 50 }), withConcurrencyCheck(orderedDestinations(config), false, killRedis(config))),
};

export const orderedRedisPause: Scenario = {
  name: 'ordered-redis-pause',
  summary:
    'fifo and keyed destinations; CLIENT PAUSE ALL for longer than the ordered jobs\' 5 s lock while attempts are in flight: their jobs are taken again while the first attempt may still be recorded. A repeat of the first of a line is allowed, nothing behind it before it settles: out of order 0, lost 0, unexpected 0.',
  run: (config) => runScenario('ordered-redis-pause', config, orderedSetup(config, { receiverDelayMs: 150 }), withConcurrencyCheck(orderedDestinations(config), false, pauseRedis(config))),
};

/** The share of attempts the flaky destination fails. */
const FAILING_SHARE = 0.3;

export const orderedFlaky: Scenario = {
  name: 'ordered-flaky',
  summary: `fifo and keyed destinations answering 500 to ${FAILING_SHARE * 100} % of attempts at random: each retrying delivery holds back its line (its key) until it is delivered. out of order 0, lost 0, unexpected 0.`,
  run: (config) =>
    runScenario(
      'ordered-flaky',
      config,
      orderedSetup(config, { answer: (random) => () => (random.next() < FAILING_SHARE ? { status: 500 } : { status: 200, delayMs: 20 }) }),
      withConcurrencyCheck(orderedDestinations(config), true, async () => ({})),
    ),
};

export const ORDERING_SCENARIOS: readonly Scenario[] = [orderedDispatcherKill, orderedWorkerKill, orderedRedisKill, orderedRedisPause, orderedFlaky];
