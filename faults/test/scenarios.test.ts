import { describe, it } from '@jest/globals';
import { seedFromEnv } from '../src/prng.js';
import { describeFailure } from '../src/report-table.js';
import { BREAKER_SCENARIOS } from '../src/breaker-scenario.js';
import { DESTINATION_SCENARIOS } from '../src/destination-scenarios.js';
import { ORDERING_SCENARIOS } from '../src/ordering-scenarios.js';
import { RELOAD_SCENARIOS } from '../src/reload-scenarios.js';
import { CI_SIZE, SCENARIOS, type Scenario, type ScenarioConfig } from '../src/scenarios.js';
import type { ScenarioReport } from '../src/harness.js';

// The CI size of every scenario: the real roles as processes (from apps/fanout/dist: `npm test`
// builds first), each scenario with its own redis-server, receiver and ports. FAULTS_SEED replays.
const seed = seedFromEnv();
const config: ScenarioConfig = { seed, ...CI_SIZE, log: (line) => void (process.env['FAULTS_VERBOSE'] ? console.log(line) : undefined) };

// Most of a scenario is waiting (a 30 s claim idle, a 30 s lock, a 31 s pause), so three run at
// once; more would starve two cores and turn the harness's own timing into noise.
const PARALLEL = 3;
let running = 0;
const queued: (() => void)[] = [];
async function inPool(scenario: Scenario): Promise<ScenarioReport> {
  if (running >= PARALLEL) await new Promise<void>((resolve) => queued.push(resolve));
  running += 1;
  try {
    return await scenario.run(config);
  } finally {
    running -= 1;
    queued.shift()?.();
  }
}

/** Generous: a scenario may wait its turn in the pool, then for the lock and claim timeouts to pass. */
const TIMEOUT_MS = 10 * 60_000;

describe(`fault injection (seed ${seed}; FAULTS_SEED=${seed} replays)`, () => {
  for (const scenario of [...SCENARIOS, ...DESTINATION_SCENARIOS, ...RELOAD_SCENARIOS, ...BREAKER_SCENARIOS, ...ORDERING_SCENARIOS]) {
    it.concurrent(
      `${scenario.name}: ${scenario.summary}`,
      async () => {
        const report = await inPool(scenario);
        if (report.violations.length > 0) throw new Error(describeFailure(report));
      },
      TIMEOUT_MS,
    );
  }
});
