import { deliveryQueueName, openDeliveryQueue } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { matches, type DestinationSpec, type FlowSpec } from './flow-file.js';
import { FLOW, type Harness } from './harness.js';
import type { IngressAnswer, Load } from './load-generator.js';
import type { RoleProcess } from './role-process.js';
import { destinations, rateLasting, REQUEST_TIMEOUT_MS, RETRY_REFUSED_MS, runScenario, sleepUntil, typeOf, waitUntil, type Scenario } from './scenarios.js';

/** How soon after a change every process must have it in force ("within a few seconds"; the poll alone is 2 s). */
const RELOAD_DEADLINE_MS = 10_000;
const UI_FLOW = 'ui';
/** The worker processes: d2's capacity is theirs times its concurrency. */
const WORKERS = 2;

/** Deliveries of `faults/<destination>` not yet done (waiting, delayed, active), as its queue counts them. */
async function backlogOf(harness: Harness, destination: string): Promise<number> {
  const queue = openDeliveryQueue(deliveryQueueName(FLOW, destination), harness.redis.observer, createKeys(harness.prefix).bullPrefix);
  try {
    return Object.values(await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized')).reduce((sum, count) => sum + count, 0);
  } finally {
    await queue.close();
  }
}

/** The flow versions a process has in force, as its /metrics says (`fanout_flow_info`), one line; undefined when it does not answer. */
async function versionsInForce(process: RoleProcess): Promise<string | undefined> {
  const text = await fetch(`${process.url}/metrics`, { signal: AbortSignal.timeout(1_000) }).then((response) => response.text(), () => undefined);
  if (text === undefined) return undefined;
  return [...text.matchAll(/^fanout_flow_info\{flow="([^"]+)",version="([^"]+)"\} 1$/gm)].map(([, flow, version]) => `${flow}:${version}`).sort().join(' ');
}

/** versionsInForce, asked until the process answers (at most 10 s, then undefined). */
async function answeredVersionsInForce(process: RoleProcess): Promise<string | undefined> {
  for (const until = Date.now() + 10_000; Date.now() < until; ) {
    const versions = await versionsInForce(process);
    if (versions !== undefined) return versions;
  }
  return undefined;
}

/** One change of the flow files, and when each process (by URL) had it in force. */
interface Change {
  readonly name: string;
  readonly flows: readonly FlowSpec[];
  writtenAt: number;
  readonly inForceAt: Map<string, number>;
}

/** The destinations of `faults` in each flow version the events name (their stream entries' flowVersion), from the published plans; and each event's version, by event id. */
async function versionsOfEvents(harness: Harness): Promise<{ versionOf: Map<string, string>; destinationsOf: Map<string, string[]> }> {
  const keys = createKeys(harness.prefix);
  const redis = harness.redis.observer;
  const versionOf = new Map<string, string>();
  for (const [, fields] of await redis.xrange(keys.partitions[0]!.stream, '-', '+')) {
    const field = (name: string): string | undefined => fields[fields.indexOf(name) + 1];
    if (field('flow') === FLOW) versionOf.set(field('id') ?? '', field('flowVersion') ?? '');
  }
  const destinationsOf = new Map<string, string[]>();
  for (const version of new Set(versionOf.values())) {
    const plan = await redis.get(keys.flowPlan(FLOW, version));
    if (plan) destinationsOf.set(version, (JSON.parse(plan) as { destinations: { name: string }[] }).destinations.map(({ name }) => name));
  }
  return { versionOf, destinationsOf };
}

/** The answer that acked `seq` (its last try). */
const ackOf = (load: Load, seq: number): IngressAnswer | undefined => load.answers.filter((answer) => answer.seq === seq && answer.kind === 'acked').at(-1);

export const hotReload: Scenario = {
  name: 'hot-reload',
  summary:
    'Flows changed three times under load without a restart, each change one symlink swap of a ConfigMap-like folder: flow ui added, destination d4 added to faults, d2 removed. ' +
    'Every process has each change in force within 10 s; every event reaches the destinations of the flow version its ingress accepted it by (its stream entry), and that version is the one in force there when it was sent. ' +
    'lost 0, unexpected 0, no dispatcher dead letter; d2 (slow: a backlog when removed) still delivers everything accepted for it.',
  run(config) {
    const ratePerSecond = rateLasting(config, 24);
    const base = destinations(config);
    // d2 answers slowly enough to take only 80 % of the load, so it has a backlog when it is
    // removed: the removed destination's workers must finish it. Within its timeout.
    const slowMs = Math.round(Math.min(0.75 * base[1]!.timeoutMs, (WORKERS * base[1]!.concurrency * 1_000) / (0.8 * ratePerSecond)));
    const setup = {
      topology: { ingress: 2, dispatcher: 1, worker: WORKERS },
      ratePerSecond,
      flowsVolume: true,
      answer: () => ({ destination }: { destination: string }) => ({ status: 200, delayMs: destination === 'd2' ? slowMs : 20 }),
    };
    return runScenario('hot-reload', config, setup, async (harness, load, _random, loadMs) => {
      const violations: string[] = [];
      const examples: string[] = [];
      const notes: string[] = [];
      const startedAt = Date.now();
      const [d1, d2, d3] = base as [DestinationSpec, DestinationSpec, DestinationSpec];
      const d4: DestinationSpec = { ...d1, name: 'd4' };
      const ui: FlowSpec = { name: UI_FLOW, destinations: [{ ...d1, name: 'u1' }] };
      const changes: Change[] = [
        { name: `add flow ${UI_FLOW}`, flows: [{ name: FLOW, destinations: [d1, d2, d3] }, ui], writtenAt: 0, inForceAt: new Map() },
        { name: 'add destination d4', flows: [{ name: FLOW, destinations: [d1, d2, d3, d4] }, ui], writtenAt: 0, inForceAt: new Map() },
        { name: 'remove destination d2', flows: [{ name: FLOW, destinations: [d1, d3, d4] }, ui], writtenAt: 0, inForceAt: new Map() },
      ];
      const processes = harness.processes;
      let uiLoad: Load | undefined;
      for (const [index, change] of changes.entries()) {
        await sleepUntil(startedAt + ((index + 1) / 4) * loadMs);
        if (index === 2) notes.push(`d2 had ${await backlogOf(harness, 'd2')} deliveries not done yet when it was removed (it answers in ${slowMs} ms)`);
        // A /metrics that did not answer in time (a loaded machine) is asked again: compared with
        // an unknown "before", the first answer after the change would count as the change in
        // force though the process still had the old versions.
        const before = new Map(await Promise.all(processes.map(async (process) => [process.url, await answeredVersionsInForce(process)] as const)));
        change.writtenAt = Date.now();
        await harness.updateFlows(change.flows);
        // A process has the change in force once its fanout_flow_info differs from before it.
        await waitUntil(async () => {
          await Promise.all(
            processes.map(async (process) => {
              if (change.inForceAt.has(process.url)) return;
              const now = await versionsInForce(process);
              const was = before.get(process.url);
              if (now !== undefined && was !== undefined && now !== was) change.inForceAt.set(process.url, Date.now());
            }),
          );
          return change.inForceAt.size === processes.length;
        }, RELOAD_DEADLINE_MS, 50);
        const slowest = Math.max(0, ...[...change.inForceAt.values()].map((at) => at - change.writtenAt));
        harness.fault('reload', change.name, `in force in ${change.inForceAt.size} of ${processes.length} processes, the last ${slowest} ms after the swap`, change.writtenAt);
        if (change.inForceAt.size < processes.length) violations.push(`${change.name}: ${processes.length - change.inForceAt.size} processes did not have it in force ${RELOAD_DEADLINE_MS} ms after the swap`);
        if (index === 0) {
          uiLoad = harness.startLoad({ flow: UI_FLOW, count: Math.max(1, Math.round(config.events / 4)), ratePerSecond: ratePerSecond / 2, concurrency: 8, timeoutMs: REQUEST_TIMEOUT_MS, retryRefusedMs: RETRY_REFUSED_MS, typeOf });
        }
      }
      if (load.sent >= config.events) violations.push(`the load on ${FLOW} had ended (${load.sent} sent) before the last change was in force: the reloads did not happen under load`);
      await load.done;

      // Which version accepted each event, as the ingress wrote it; what each version's destinations are, as it published them.
      const { versionOf, destinationsOf } = await versionsOfEvents(harness);
      /** Stage 0: d1-d3; 1: d1-d4; 2: d1, d3, d4, the flows of `faults` before and after its two changes. */
      const stages = [[d1, d2, d3], [d1, d2, d3, d4], [d1, d3, d4]].map((specs) => specs.map(({ name }) => name).join(','));
      const stageOf = new Map<number, number>();
      const perStage = [0, 0, 0];
      for (const [seq, outcome] of load.outcomes) {
        if (outcome.kind !== 'acked') continue;
        const version = versionOf.get(outcome.id);
        const names = version === undefined ? undefined : destinationsOf.get(version);
        const stage = names ? stages.indexOf(names.join(',')) : -1;
        if (stage === -1) {
          violations.push(`${FLOW} #${seq} (${outcome.id}): accepted by version ${version ?? '(no stream entry)'}, ${names ? `destinations ${names.join(',')}` : 'whose plan is not published'}`);
          continue;
        }
        stageOf.set(seq, stage);
        perStage[stage]! += 1;
        // The version in force at its ingress: not a newer one before the change was written, not an older one once that ingress had it in force.
        const answer = ackOf(load, seq);
        for (const [changeIndex, stageFrom] of [[1, 1], [2, 2]] as const) {
          const change = changes[changeIndex]!;
          const inForceAt = change.inForceAt.get(outcome.via);
          if (!answer) continue;
          if (answer.answeredAt < change.writtenAt && stage >= stageFrom) examples.push(`${FLOW} #${seq}: answered before "${change.name}" was written, accepted by the version after it`);
          if (inForceAt !== undefined && answer.sentAt > inForceAt && stage < stageFrom) examples.push(`${FLOW} #${seq}: sent after its ingress had "${change.name}" in force, accepted by the version before it`);
        }
      }
      const misattributed = examples.length;
      if (misattributed > 0) violations.push(`${misattributed} events accepted by a version that was not in force at their ingress`);
      notes.push(`${FLOW}: 202 by the version with ${stages.map((names, stage) => `${names}: ${perStage[stage]}`).join('; ')}`);
      for (const change of changes) {
        const delays = [...change.inForceAt.values()].map((at) => at - change.writtenAt).sort((a, b) => a - b);
        notes.push(`"${change.name}" in force ${delays.join(', ')} ms after the swap (per process)`);
      }
      if (perStage.some((count) => count === 0)) violations.push(`not every version of ${FLOW} accepted events (${perStage.join(', ')}): the changes did not happen under load`);

      const meantFor = (destination: DestinationSpec, seq: number): boolean => {
        const stage = stageOf.get(seq);
        return matches(destination, load.types.get(seq) ?? '') && stage !== undefined && stages[stage]!.split(',').includes(destination.name);
      };
      return { violations, examples: examples.slice(0, 10), notes, meantFor, moreLoads: uiLoad ? [{ load: uiLoad }] : [] };
    });
  },
};

export const RELOAD_SCENARIOS: readonly Scenario[] = [hotReload];
