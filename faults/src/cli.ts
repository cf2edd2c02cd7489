#!/usr/bin/env node
import { parseArgs } from 'node:util';
import type { ScenarioReport } from './harness.js';
import { seedFromEnv } from './prng.js';
import { describeFailure, reportTable } from './report-table.js';
import { CI_SIZE, SCENARIOS, type ScenarioConfig } from './scenarios.js';

const USAGE = `usage: npm run test:faults -- [--events N] [--rate N] [--faults N] [--pauses N] [--pause-ms MS]
                              [--scenario a,b] [--seed S] [--parallel N] [--keep]
Runs the fault-injection scenarios against the build (npm run build first) and prints Jepsen's
counters per destination. Without options: the CI size (${CI_SIZE.events} events at ${CI_SIZE.ratePerSecond}/s, ${CI_SIZE.faults} faults).
Scenarios: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}. FAULTS_SEED=S is the same as --seed S.`;

function wholeNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name}: expected a whole number, got "${text}"`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      rate: { type: 'string' },
      faults: { type: 'string' },
      pauses: { type: 'string' },
      'pause-ms': { type: 'string' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      parallel: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const events = wholeNumber('events', values.events, CI_SIZE.events);
  const scale = events / CI_SIZE.events;
  // At scale: faster, and more faults (one per ~2,500 events), so kills keep landing all through the run.
  const ratePerSecond = wholeNumber('rate', values.rate, scale > 1 ? 300 : CI_SIZE.ratePerSecond);
  const faults = wholeNumber('faults', values.faults, Math.max(CI_SIZE.faults, Math.round(events / 2_500)));
  const pauses = wholeNumber('pauses', values.pauses, scale > 1 ? 2 : CI_SIZE.pauses);
  const pauseMs = wholeNumber('pause-ms', values['pause-ms'], CI_SIZE.pauseMs);
  const parallel = Math.max(1, wholeNumber('parallel', values.parallel, 1));
  const seed = values.seed !== undefined ? wholeNumber('seed', values.seed, 0) : seedFromEnv();
  const loadMs = (events * 1_000) / ratePerSecond;
  const settleDeadlineMs = Math.max(CI_SIZE.settleDeadlineMs, 2 * loadMs + 60_000);
  const wanted = values.scenario?.split(',').map((name) => name.trim()) ?? SCENARIOS.map((scenario) => scenario.name);
  const unknown = wanted.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`--scenario: unknown ${unknown.join(', ')}; expected any of ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
  const chosen = SCENARIOS.filter((scenario) => wanted.includes(scenario.name));

  const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const config: ScenarioConfig = { seed, events, ratePerSecond, faults, pauses, pauseMs, settleDeadlineMs, log, ...(values.keep ? { keep: true } : {}) };
  log(`seed ${seed}: ${chosen.length} scenarios, ${events} events each at ${ratePerSecond}/s, ${faults} faults, ${pauses} pauses of ${pauseMs} ms, ${parallel} at a time`);

  const startedAt = Date.now();
  const reports: ScenarioReport[] = [];
  const errors: string[] = [];
  const queue = [...chosen];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let scenario = queue.shift(); scenario; scenario = queue.shift()) {
        log(`${scenario.name}: start`);
        try {
          const report = await scenario.run(config);
          reports.push(report);
          log(`${scenario.name}: ${report.violations.length === 0 ? 'pass' : 'FAIL'} in ${(report.durationMs / 1_000).toFixed(1)} s`);
        } catch (error) {
          errors.push(`${scenario.name} (seed ${seed}) could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          log(`${scenario.name}: error ${String(error)}`);
        }
      }
    }),
  );
  reports.sort((a, b) => chosen.findIndex((s) => s.name === a.scenario) - chosen.findIndex((s) => s.name === b.scenario));

  console.log(reportTable(reports));
  const failed = reports.filter((report) => report.violations.length > 0);
  for (const report of failed) console.log(`\n${describeFailure(report)}`);
  for (const error of errors) console.log(`\n${error}`);
  const faultsInjected = reports.reduce((sum, report) => sum + report.faults.length, 0);
  console.log(`\n${reports.length - failed.length} passed, ${failed.length + errors.length} failed`);
  console.log(`seed ${seed}, ${events} events per scenario, ${faultsInjected} faults injected, ${((Date.now() - startedAt) / 1_000).toFixed(0)} s`);
  return failed.length + errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`faults: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
