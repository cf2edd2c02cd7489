import { readFile } from 'node:fs/promises';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { FLOW } from './harness.js';
import { atTimes, destinations, faultTimes, runScenario, sleep, waitUntil, type Scenario } from './scenarios.js';

const THRESHOLD = 5;
const COOLDOWN_MS = 1_000;
/** The outages: when (a share of the load's length) and how long (ms) the receiver answers 500 to every destination. */
const OUTAGES = [
  { at: 0.2, forMs: 4_000 },
  { at: 0.6, forMs: 3_000 },
] as const;
/** How long after a fault an attempt answered earlier may still be unrecorded by its worker. */
const ANSWER_WINDOW_MS = 2_000;

/**
 * d1 and d2 have a circuit breaker (5 failures in a row, 1 s cooldown, redrive); d3 has none
 * and shows what the same outages cost without one. Workers are killed throughout, outages
 * or not.
 */
export const breakerWorkerKill: Scenario = {
  name: 'breaker-worker-kill',
  summary:
    'Two outages (every destination answers 500) while workers are SIGKILLed: the breakers of d1 and d2 open, probe and close (no request storm: failed requests bounded by threshold, in-flight attempts and probes), end closed. lost 0, unexpected 0.',
  run: (config) => {
    const breaker = { consecutiveFailures: THRESHOLD, cooldownMs: COOLDOWN_MS, redrive: true };
    const [d1, d2, d3] = destinations(config);
    // d3 retries with full jitter: 10 attempts at 200 ms to 2 s span 6.5 s on average but under
    // 4 s for some of hundreds of deliveries, dead letters by its policy, not lost events; 30
    // attempts outlast both outages.
    const dests = [{ ...d1!, circuitBreaker: breaker }, { ...d2!, circuitBreaker: breaker }, { ...d3!, attempts: 30 }];
    const loadMs = (config.events * 1_000) / config.ratePerSecond;
    let startedAt = 0;
    const down = (): boolean => OUTAGES.some(({ at, forMs }) => Date.now() >= startedAt + at * loadMs && Date.now() < startedAt + at * loadMs + forMs);
    return runScenario(
      'breaker-worker-kill',
      config,
      { destinations: dests, answer: () => () => (down() ? { status: 500 } : { status: 200, delayMs: 50 }) },
      async (harness, _load, random) => {
        startedAt = Date.now();
        let kills = 0;
        await atTimes(startedAt, faultTimes(random, config.faults, loadMs), async () => {
          const target = random.pick(harness.workers);
          await waitUntil(() => harness.receiver.inFlight(0).length > 0, 2_000);
          await target.signal('SIGKILL');
          kills += 1;
          await sleep(300);
          const inFlight = harness.markInFlight(ANSWER_WINDOW_MS);
          harness.workersHit(1);
          harness.fault('SIGKILL', target.name, `${inFlight} attempts in flight (any worker)${down() ? ', during an outage' : ''}`);
          await sleep(random.int(0, 1_000));
          await target.start();
        });
        return {
          after: async (settled) => {
            const keys = createKeys(settled.prefix);
            const workers = settled.workers.length;
            const outageMs = OUTAGES.reduce((sum, { forMs }) => sum + forMs, 0);
            // Per outage: the failures that open it, the attempts in flight as it opens (each
            // worker's concurrency, again after a kill), and one probe per cooldown.
            const bound = OUTAGES.length * (THRESHOLD + workers * d1!.concurrency) + kills * d1!.concurrency + Math.ceil(outageMs / COOLDOWN_MS) + 2 * OUTAGES.length;
            const failedOf = (name: string) => settled.receiver.attempts(name).filter((attempt) => attempt.status === 500).length;
            const violations: string[] = [];
            const notes = [`failed requests in the outages: d1 ${failedOf('d1')}, d2 ${failedOf('d2')} (bound ${bound}); d3 without a breaker ${failedOf('d3')}`];
            for (const name of ['d1', 'd2']) {
              if (failedOf(name) > bound) violations.push(`${name}: ${failedOf(name)} failed requests in the outages, more than the breaker allows (${bound})`);
              const state = await settled.redis.observer.hget(keys.partitions[0]!.destinationHealth(deliveryQueueName(FLOW, name)), 'state');
              if (state !== null) violations.push(`${name}: its breaker ended ${state}, not closed`);
            }
            // Every worker process logs the changes it made (a killed one's file goes on after its restart).
            const logged = (await Promise.all(settled.workers.map((worker) => readFile(worker.logFile, 'utf8')))).join('\n').split('\n').filter((line) => line.includes('"destination.state_changed"'));
            for (const name of ['d1', 'd2']) {
              const changes = logged.filter((line) => line.includes(`"destination":"${name}"`));
              const opened = changes.filter((line) => line.includes('"to":"open"')).length;
              const closed = changes.filter((line) => line.includes('"to":"closed"')).length;
              notes.push(`${name}: opened ${opened} times, closed ${closed} times`);
              if (opened === 0 || closed === 0) violations.push(`${name}: its breaker did not open and close (opened ${opened}, closed ${closed})`);
            }
            return { violations, examples: [], notes };
          },
        };
      },
    );
  },
};

export const BREAKER_SCENARIOS: readonly Scenario[] = [breakerWorkerKill];
