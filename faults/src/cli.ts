#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { ScenarioReport } from './harness.js';
import { seedFromEnv } from './prng.js';
import { describeFailure, reportNotes, reportTable } from './report-table.js';
import { BREAKER_SCENARIOS } from './breaker-scenario.js';
import { DESTINATION_SCENARIOS } from './destination-scenarios.js';
import { ORDERING_SCENARIOS } from './ordering-scenarios.js';
import { RELOAD_SCENARIOS } from './reload-scenarios.js';
import { CI_SIZE, pauseMsOf, RECOVERY, SCENARIOS as HTTP_SCENARIOS, type Recovery, type ScenarioConfig } from './scenarios.js';

const SCENARIOS = [...HTTP_SCENARIOS, ...DESTINATION_SCENARIOS, ...RELOAD_SCENARIOS, ...BREAKER_SCENARIOS, ...ORDERING_SCENARIOS];

const USAGE = `usage: npm run test:faults -- [--events N] [--rate N] [--faults N] [--pauses N] [--pause-ms MS]
                              [--recovery fast|default] [--scenario a,b] [--seed S] [--parallel N] [--keep] [--json FILE]
Runs the fault-injection scenarios against the build (npm run build first) and prints Jepsen's
counters per destination. Without options: the CI size (${CI_SIZE.events} events at ${CI_SIZE.ratePerSecond}/s, ${CI_SIZE.faults} faults,
fast recovery). --recovery fast sets FANOUT_CLAIM_IDLE=3s, FANOUT_WORKER_LOCK=10s, FANOUT_STALLED_INTERVAL=1s and 2 s
destination timeouts; default (the default above ${CI_SIZE.events} events) keeps the product's defaults and 5 s timeouts.
--keep keeps every run's folder (Redis data, flow, process logs; failed runs keep theirs anyway);
--json writes every scenario's full report to FILE as it finishes.
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
      recovery: { type: 'string' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      parallel: { type: 'string' },
      keep: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const events = wholeNumber('events', values.events, CI_SIZE.events);
  const scale = events / CI_SIZE.events;
  // At scale: more faults (one per ~2,500 events), so they keep landing all through the run, and
  // a rate the roles keep up with on two cores (~100 events/s to three destinations): above it the
  // queues only grow, and recovery is measured against a backlog instead of against faults.
  const ratePerSecond = wholeNumber('rate', values.rate, scale > 1 ? 80 : CI_SIZE.ratePerSecond);
  const faults = wholeNumber('faults', values.faults, Math.max(CI_SIZE.faults, Math.round(events / 2_500)));
  const pauses = wholeNumber('pauses', values.pauses, scale > 1 ? 2 : CI_SIZE.pauses);
  const recovery = (values.recovery ?? (scale > 1 ? 'default' : CI_SIZE.recovery)) as Recovery;
  if (!(recovery in RECOVERY)) throw new Error(`--recovery: expected fast or default, got "${recovery}"`);
  const parallel = Math.max(1, wholeNumber('parallel', values.parallel, 1));
  const seed = values.seed !== undefined ? wholeNumber('seed', values.seed, 0) : seedFromEnv();
  const loadMs = (events * 1_000) / ratePerSecond;
  const settleDeadlineMs = Math.max(CI_SIZE.settleDeadlineMs, 3 * loadMs + 120_000);
  const wanted = values.scenario?.split(',').map((name) => name.trim()) ?? SCENARIOS.map((scenario) => scenario.name);
  const unknown = wanted.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) throw new Error(`--scenario: unknown ${unknown.join(', ')}; expected any of ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
  const chosen = SCENARIOS.filter((scenario) => wanted.includes(scenario.name));

  const log = (line: string): void => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
  const config: ScenarioConfig = {
    seed,
    events,
    ratePerSecond,
    faults,
    pauses,
    recovery,
    settleDeadlineMs,
    log,
    ...(values['pause-ms'] !== undefined ? { pauseMs: wholeNumber('pause-ms', values['pause-ms'], 0) } : {}),
    ...(values.keep ? { keep: true } : {}),
  };
  log(
    `seed ${seed}: ${chosen.length} scenarios, ${events} events each at ${ratePerSecond}/s, ${faults} faults, ${pauses} pauses of ${pauseMsOf(config)} ms, ` +
      `${recovery} recovery ${JSON.stringify(RECOVERY[recovery])}, ${parallel} at a time`,
  );

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
          if (report.violations.length > 0) log(describeFailure(report));
          if (values.json) await writeFile(values.json, `${JSON.stringify(reports, null, 2)}\n`);
        } catch (error) {
          errors.push(`${scenario.name} (seed ${seed}) could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          log(`${scenario.name}: error ${String(error)}`);
        }
      }
    }),
  );
  reports.sort((a, b) => chosen.findIndex((s) => s.name === a.scenario) - chosen.findIndex((s) => s.name === b.scenario));

  console.log(reportTable(reports));
  console.log(`\n${reportNotes(reports)}`);
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
