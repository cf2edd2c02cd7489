import type { ScenarioReport } from './harness.js';

/** One row per scenario and destination, as a Markdown table (it reads in a terminal too). */
export function reportTable(reports: readonly ScenarioReport[]): string {
  const header = ['scenario', 'seed', 'events', '202', 'refused', 'in doubt', 'faults', 'crashes', 'dest', 'expected', 'lost', 'duplicated', 'extra', 'max', 'unrecorded', 'unexplained dup', 'unexpected', 'in doubt delivered', 'jobs inspected', 'jobs re-created', 'settled s', 'verdict'];
  const rows: string[][] = [];
  for (const report of reports) {
    for (const [index, counters] of report.deliveries.entries()) {
      const jobs = report.jobs.find((entry) => entry.destination === counters.destination);
      const first = index === 0;
      rows.push([
        first ? report.scenario : '',
        first ? String(report.seed) : '',
        first ? String(report.events) : '',
        first ? String(report.acked) : '',
        first ? String(report.refused) : '',
        first ? String(report.indeterminate) : '',
        first ? String(report.faults.length) : '',
        first ? String(report.crashes) : '',
        counters.destination,
        String(counters.expected),
        String(counters.lost),
        String(counters.duplicated),
        String(counters.extraDeliveries),
        String(counters.maxDeliveries),
        String(counters.unrecordedAttempts),
        String(counters.unexplainedDuplicates),
        String(counters.unexpected),
        String(counters.indeterminateDelivered),
        String(jobs?.jobsInspected ?? 0),
        String((jobs?.recreatedJobs ?? 0) + (jobs?.attemptRegressions ?? 0)),
        first ? (report.quiescence.waitedMs / 1_000).toFixed(1) : '',
        first ? (report.violations.length === 0 ? 'pass' : 'FAIL') : '',
      ]);
    }
  }
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The lines a failure prints: every violation, examples, the faults, how to replay. */
export function describeFailure(report: ScenarioReport): string {
  return [
    `${report.scenario} FAILED (seed ${report.seed}; replay with FAULTS_SEED=${report.seed}):`,
    ...report.violations.map((violation) => `  - ${violation}`),
    ...(report.examples.length > 0 ? ['  examples:', ...report.examples.map((example) => `    ${example}`)] : []),
    '  faults:',
    ...report.faults.map((fault) => `    +${(fault.atMs / 1_000).toFixed(1)}s ${fault.kind} ${fault.target}${fault.detail ? ` (${fault.detail})` : ''}`),
    `  counters: ${JSON.stringify({ events: report.events, acked: report.acked, refused: report.refused, indeterminate: report.indeterminate, crashes: report.crashes, deliveries: report.deliveries, jobs: report.jobs })}`,
    `  process logs: ${report.logDir}`,
  ].join('\n');
}
