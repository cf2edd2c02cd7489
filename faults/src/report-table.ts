import { FLOW, type ScenarioReport } from './harness.js';

/** One row per scenario, flow and destination, as a Markdown table (it reads in a terminal too). */
export function reportTable(reports: readonly ScenarioReport[]): string {
  const header = [
    'scenario', 'seed', 'events', '202', 'refused', 'in doubt', 'faults', 'crashes', 'dest', 'expected', 'lost', 'duplicated', 'extra', 'max', 'unrecorded',
    'unexplained dup', 'unexpected', 'out of order', 'in doubt delivered', 'false dead', 'stuck open', 'jobs inspected', 'jobs re-created', 'dispatcher dead', 'settled s', 'verdict',
  ];
  const rows: string[][] = [];
  for (const report of reports) {
    for (const [index, counters] of report.deliveries.entries()) {
      const jobs = report.jobs.find((entry) => entry.flow === counters.flow && entry.destination === counters.destination);
      const first = index === 0;
      const once = (cell: string): string => (first ? cell : '');
      rows.push([
        once(report.scenario),
        once(String(report.seed)),
        once(String(report.events)),
        once(String(report.acked)),
        once(String(report.refused)),
        once(String(report.indeterminate)),
        once(String(report.faults.length)),
        once(String(report.crashes)),
        counters.flow === FLOW ? counters.destination : `${counters.flow}/${counters.destination}`,
        String(counters.expected),
        String(counters.lost),
        String(counters.duplicated),
        String(counters.extraDeliveries),
        String(counters.maxDeliveries),
        String(counters.unrecordedAttempts),
        String(counters.unexplainedDuplicates),
        String(counters.unexpected),
        String(counters.outOfOrder),
        String(counters.indeterminateDelivered),
        String(jobs?.falseDeadLetters ?? 0),
        String(jobs?.stuckOpen ?? 0),
        String(jobs?.jobsInspected ?? 0),
        String((jobs?.recreatedJobs ?? 0) + (jobs?.attemptRegressions ?? 0)),
        once(String(report.dispatcherDeadLetters)),
        once((report.quiescence.waitedMs / 1_000).toFixed(1)),
        once(report.violations.length === 0 ? 'pass' : 'FAIL'),
      ]);
    }
  }
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Counts by name, most first: `202 300, REDIS_TIMEOUT 32`. */
export function formatCounts(counts: Readonly<Record<string, number>>): string {
  return (
    Object.entries(counts)
      .sort(([, a], [, b]) => b - a)
      .map(([name, n]) => `${name} ${n}`)
      .join(', ') || 'none'
  );
}

/** What each scenario measured beyond the counters: its answers by code and its own notes. */
export function reportNotes(reports: readonly ScenarioReport[]): string {
  return reports
    .map((report) => {
      return [`${report.scenario}: answers ${formatCounts(report.answers)}`, ...report.notes.map((note) => `  ${note}`)].join('\n');
    })
    .join('\n');
}

/** The lines a failure prints: every violation, examples, the faults, how to replay. */
export function describeFailure(report: ScenarioReport): string {
  return [
    `${report.scenario} FAILED (seed ${report.seed}; replay with FAULTS_SEED=${report.seed}):`,
    ...report.violations.map((violation) => `  - ${violation}`),
    ...(report.examples.length > 0 ? ['  examples:', ...report.examples.map((example) => `    ${example}`)] : []),
    ...(report.notes.length > 0 ? ['  notes:', ...report.notes.map((note) => `    ${note}`)] : []),
    '  faults:',
    ...report.faults.map((fault) => `    +${(fault.atMs / 1_000).toFixed(1)}s ${fault.kind} ${fault.target}${fault.detail ? ` (${fault.detail})` : ''}`),
    `  counters: ${JSON.stringify({ events: report.events, acked: report.acked, refused: report.refused, indeterminate: report.indeterminate, answers: report.answers, crashes: report.crashes, dispatcherDeadLetters: report.dispatcherDeadLetters, deliveries: report.deliveries, jobs: report.jobs })}`,
    `  process logs: ${report.logDir}`,
  ].join('\n');
}
