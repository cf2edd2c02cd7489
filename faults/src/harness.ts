import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryQueueName, openDeliveryQueue } from '@fanout/queues';
import { createKeys, DISPATCHER_GROUP } from '@fanout/redis';
import { createConfigMapVolume, type ConfigMapVolume } from '@fanout/testkit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkDeliveries, type DeliveryCounters } from './checker.js';
import { flowFolderFiles, matches, writeFlowFile, type DestinationSpec, type FlowSpec } from './flow-file.js';
import { inspectJobs, type JobCounters } from './inspect-jobs.js';
import { answersByCode, startLoad, type Load, type LoadOptions } from './load-generator.js';
import { startRecordingReceiver, type ReceivedAttempt, type RecordingReceiver } from './recording-receiver.js';
import { startRedisUnderTest, type RedisUnderTest } from './redis-under-test.js';
import { createRoleProcess, type Role, type RoleProcess } from './role-process.js';

export const FLOW = 'faults';

/** The admin token every process is given (FANOUT_ADMIN_TOKEN), for the dashboard's API. */
export const ADMIN_TOKEN = 'faults-admin-token';

export interface Topology {
  readonly ingress: number;
  readonly dispatcher: number;
  readonly worker: number;
  /** Dashboard processes (the admin API). Default 0. */
  readonly dashboard?: number;
}

/** Role processes started together with one flow file: a version of the deployment. */
export interface Group {
  /** '' for the harness's first group; otherwise the prefix of its processes' names (`new-ingress-1`). */
  readonly name: string;
  readonly flowFile: string;
  readonly flows: readonly FlowSpec[];
  readonly ingress: readonly RoleProcess[];
  readonly dispatchers: readonly RoleProcess[];
  readonly workers: readonly RoleProcess[];
  readonly dashboards: readonly RoleProcess[];
  readonly processes: readonly RoleProcess[];
}

export interface GroupOptions {
  /** Prefix of the processes' names and of the flow file's. */
  readonly name: string;
  /** What its processes load (FANOUT_FLOWS). */
  readonly flows: readonly FlowSpec[];
  readonly topology: Topology;
  /** More variables for its processes, over the harness's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** One load and what each of its events is meant for, for settling and for the counters. */
export interface CheckedLoad {
  readonly load: Load;
  /** Whether the event of `seq` is meant for `destination`. Default: the destination's filter takes its type. */
  readonly meantFor?: (destination: DestinationSpec, seq: number) => boolean;
  /** Per destination, the sequence numbers it refuses for good (they end dead-lettered). */
  readonly poison?: ReadonlyMap<string, ReadonlySet<number>>;
}

export interface HarnessOptions {
  readonly scenario: string;
  readonly seed: number;
  /** The destinations of flow `faults`, which the first group loads. */
  readonly destinations: readonly DestinationSpec[];
  /** The first group's processes. */
  readonly topology: Topology;
  /** FANOUT_* variables for every role (recovery timeouts), below the ones the harness sets. */
  readonly productEnv?: Readonly<Record<string, string>>;
  /** FANOUT_SHUTDOWN_GRACE of every process, ms. */
  readonly shutdownGraceMs: number;
  /** Where the run's folder (Redis data, flow, process logs) is made. Default os.tmpdir(). */
  readonly workRoot?: string;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
  /** What the destinations with a `target` (not the recording receiver) hold. */
  readonly observer?: DestinationObserver;
  /**
   * The first group loads its flows from a folder mounted as Kubernetes mounts a ConfigMap
   * (symlinks, `..data` swapped), which `updateFlows` changes. Default: one flow file.
   */
  readonly flowsVolume?: boolean;
}

/**
 * What destinations other than the recording receiver (a bucket, a queue, a stream) hold, as
 * the receiver would have recorded it: one delivered attempt per copy of an event found there.
 */
export interface DestinationObserver {
  /** The copies found at the destination so far; undefined for a destination it does not observe (the receiver's). */
  attempts(destination: string): readonly ReceivedAttempt[] | undefined;
  /** Copies found so far, all destinations together: settling's sign of progress. */
  readonly total: number;
  /** Reads every destination again from scratch, for the final count. */
  refresh(): Promise<void>;
  /** What a destination held that is no whole event with its id (a line that does not parse, a body that is not what was sent). */
  violations(): string[];
}

/** One fault the harness injected, for the report. */
export interface FaultRecord {
  /** ms since the harness started. */
  readonly atMs: number;
  readonly kind: string;
  readonly target: string;
  readonly detail?: string;
}

export interface Quiescence {
  readonly quiescent: boolean;
  readonly waitedMs: number;
  /** What was still moving when the deadline passed. */
  readonly remaining: string;
}

/** Everything a scenario's run measured; `violations` empty means it passed. */
export interface ScenarioReport {
  readonly scenario: string;
  readonly seed: number;
  /** Events sent, every load together. */
  readonly events: number;
  readonly acked: number;
  readonly refused: number;
  readonly indeterminate: number;
  /** Every answer the ingress gave (every try), by code: `202`, `200` (a repeated webhook-id), `REDIS_TIMEOUT`, `ECONNREFUSED`… */
  readonly answers: Readonly<Record<string, number>>;
  /**
   * Requests answered "not stored" (refused) whose repeat, with the same webhook-id, was
   * answered 200 with a stored event's id, with no try in doubt before: a refusal that lied.
   */
  readonly falseRefusals: number;
  /** Entries in the dispatcher dead letters once settled. */
  readonly dispatcherDeadLetters: number;
  readonly faults: readonly FaultRecord[];
  /** Role processes that exited without the harness asking (restarted, as a supervisor would). */
  readonly crashes: number;
  readonly quiescence: Quiescence;
  /** Per flow and destination. */
  readonly deliveries: readonly (DeliveryCounters & { readonly flow: string })[];
  readonly jobs: readonly JobCounters[];
  readonly violations: string[];
  readonly examples: readonly string[];
  /** What the scenario measured beyond the counters (answers during a fault, readiness), one line each. */
  readonly notes: readonly string[];
  readonly durationMs: number;
  /** Process logs (LOG_LEVEL=warn), kept when the scenario failed. */
  readonly logDir: string;
}

/** A scenario's world: its own redis-server (AOF, fsync always), receiver and role processes on free ports. */
export interface Harness {
  readonly options: HarnessOptions;
  readonly dir: string;
  readonly logDir: string;
  readonly prefix: string;
  readonly redis: RedisUnderTest;
  readonly receiver: RecordingReceiver;
  /** The first group's processes (flow `faults` with `destinations`). */
  readonly ingress: readonly RoleProcess[];
  readonly dispatchers: readonly RoleProcess[];
  readonly workers: readonly RoleProcess[];
  readonly dashboards: readonly RoleProcess[];
  /** Every process of every group. */
  readonly processes: readonly RoleProcess[];
  readonly faults: FaultRecord[];
  /**
   * Writes a flow file of `flows` and starts a group of processes that load it, beside the
   * ones running (a new version in a rolling deploy); resolves once every one answers /healthz.
   * Their flows' queues are watched and checked from then on.
   */
  startGroup(options: GroupOptions): Promise<Group>;
  /**
   * Replaces the first group's flows (with `flowsVolume`) as the kubelet updates a ConfigMap:
   * one atomic symlink swap; their processes are not restarted. Their flows' queues are watched
   * and checked from then on.
   */
  updateFlows(flows: readonly FlowSpec[]): Promise<void>;
  readonly startedAt: number;
  /** Records a fault for the report; `at` (unix ms) when it began earlier than now. */
  fault(kind: string, target: string, detail?: string, at?: number): void;
  /** Marks the receiver's attempts in flight now (or answered within `windowMs`) as ones a fault may repeat; returns how many. */
  markInFlight(windowMs: number): number;
  /** Counts `processes` worker processes whose in-flight attempts a fault may have cut off unrecorded (each may repeat once). */
  workersHit(processes: number): void;
  /**
   * The load generator on a flow (default `faults`), aimed in turn at `ingress()` (read at
   * each request; default the first group's ingress processes).
   */
  startLoad(options: Omit<LoadOptions, 'target' | 'flow'> & { readonly flow?: string; readonly ingress?: () => readonly RoleProcess[] }): Load;
  /**
   * Waits until every acked event reached its destinations and nothing is left in the stream
   * or the queues; gives up after `deadlineMs`, or sooner once nothing has been delivered for
   * 90 s (a slow system keeps settling, a stuck one does not).
   */
  settle(loads: readonly CheckedLoad[], deadlineMs: number): Promise<Quiescence>;
  /** The counters per flow, the job inspection and the generic pass criteria. */
  report(loads: readonly CheckedLoad[], quiescence: Quiescence, extra?: ReportExtra): Promise<ScenarioReport>;
  /** Stops every process and Redis; removes the run's folder unless `keep`. */
  close(keep: boolean): Promise<void>;
}

/** What a scenario adds to its report. */
export interface ReportExtra {
  readonly violations?: readonly string[];
  readonly examples?: readonly string[];
  readonly notes?: readonly string[];
  /** Dispatcher dead letters the scenario caused on purpose (poison entries). Default 0. */
  readonly expectedDispatcherDeadLetters?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Seqs answered "not stored" that a repeat found stored (200 with an id), with no try in doubt before it. */
function falseRefusalsOf(load: Load): number {
  const inDoubt = new Set<number>();
  let lies = 0;
  for (const answer of load.answers) {
    if (answer.kind === 'indeterminate') inDoubt.add(answer.seq);
    else if (answer.code === '200' && !inDoubt.has(answer.seq)) lies += 1;
  }
  return lies;
}

/** The default: a destination takes the events its filter takes. */
const byFilter = (load: Load) => (destination: DestinationSpec, seq: number): boolean => matches(destination, load.types.get(seq) ?? '');

/**
 * How long settling waits without a single request reaching the receiver before it gives up:
 * longer than the slowest recovery at the product's defaults (a killed worker's job: its 30 s
 * lock plus up to two 10 s stalled checks; a dead dispatcher's entries: 30 s claim idle plus
 * a 5 s scan).
 */
const STALL_MS = 90_000;

/** What is still moving, or undefined when nothing is; a Redis that does not answer within `ms` (paused, down) counts as moving. */
async function probe(work: () => Promise<string | undefined>, ms: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const running = work().catch((error: Error) => `redis: ${error.message}`);
  try {
    return await Promise.race([running, new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`redis did not answer within ${ms} ms`), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const log = options.log ?? (() => {});
  const dir = await mkdtemp(join(options.workRoot ?? tmpdir(), `fanout-faults-${options.scenario}-${options.seed}-`));
  const logDir = join(dir, 'logs');
  await mkdir(logDir, { recursive: true });
  const prefix = `faults-${options.scenario}`;
  const keys = createKeys(prefix);
  const startedAt = Date.now();
  const processes: RoleProcess[] = [];
  let redis: RedisUnderTest | undefined;
  let receiver: RecordingReceiver | undefined;
  let observer: Redis | undefined;
  /** Every destination of every flow any group loads (the union of their versions), and its queue. */
  const flows = new Map<string, Map<string, DestinationSpec>>();
  const queues = new Map<string, Queue>();

  const close = async (keep: boolean): Promise<void> => {
    await Promise.allSettled(processes.map((process) => process.close()));
    await Promise.allSettled([...queues.values()].map((queue) => queue.close()));
    observer?.disconnect();
    await receiver?.close().catch(() => {});
    await redis?.stop().catch(() => {});
    if (!keep) await rm(dir, { recursive: true, force: true });
  };

  try {
    redis = await startRedisUnderTest(join(dir, 'redis'));
    receiver = await startRecordingReceiver();
    // A connection of the harness's own for reading queue depths and records; Queue needs `maxRetriesPerRequest: null`.
    observer = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100, connectionName: 'faults-inspect' });
    observer.on('error', () => {});
    // FANOUT_* variables of the harness's own environment reach every role and override the
    // scenario's recovery settings; the ones that define the scenario's world win over both.
    const passedOn = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('FANOUT_') && entry[1] !== undefined));
    const baseEnv = {
      FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      ...options.productEnv,
      ...passedOn,
      REDIS_URL: redis.url,
      FANOUT_REDIS_PREFIX: prefix,
      FANOUT_SHUTDOWN_GRACE: `${options.shutdownGraceMs}ms`,
      LOG_LEVEL: 'warn',
    };
    const theReceiver = receiver;
    const theRedis = redis;
    const theObserver = observer;
    const destinationObserver = options.observer;
    const attemptsAt = (destination: string): readonly ReceivedAttempt[] => destinationObserver?.attempts(destination) ?? theReceiver.attempts(destination);
    const progress = (): number => theReceiver.total + (destinationObserver?.total ?? 0);

    const watch = (specs: readonly FlowSpec[]): void => {
      for (const flow of specs) {
        let destinations = flows.get(flow.name);
        if (!destinations) flows.set(flow.name, (destinations = new Map()));
        for (const destination of flow.destinations) {
          destinations.set(destination.name, destination);
          const name = deliveryQueueName(flow.name, destination.name);
          if (!queues.has(name)) queues.set(name, openDeliveryQueue(name, theObserver, keys.bullPrefix));
        }
      }
    };
    const destinationsOf = (flow: string): DestinationSpec[] => [...(flows.get(flow)?.values() ?? [])];

    let volume: ConfigMapVolume | undefined;
    const startGroup = async (group: GroupOptions, asVolume = false): Promise<Group> => {
      const flowFile = asVolume ? join(dir, 'flows') : join(dir, `${group.name || 'flows'}.yaml`);
      if (asVolume) volume = await createConfigMapVolume(flowFile, flowFolderFiles(group.flows, theReceiver.urlOf));
      else await writeFlowFile(flowFile, group.flows, theReceiver.urlOf);
      watch(group.flows);
      const env = { ...baseEnv, ...group.env, FANOUT_FLOWS: flowFile };
      const made: RoleProcess[] = [];
      const make = async (role: Role, count: number): Promise<RoleProcess[]> => {
        const ofRole: RoleProcess[] = [];
        for (let i = 1; i <= count; i += 1) {
          const name = `${group.name ? `${group.name}-` : ''}${role}-${i}`;
          const process = await createRoleProcess({ name, roles: [role], env, logFile: join(logDir, `${name}.log`) });
          ofRole.push(process);
          made.push(process);
          processes.push(process);
        }
        return ofRole;
      };
      const ingress = await make('ingress', group.topology.ingress);
      const dispatchers = await make('dispatcher', group.topology.dispatcher);
      const workers = await make('worker', group.topology.worker);
      const dashboards = await make('dashboard', group.topology.dashboard ?? 0);
      await Promise.all(made.map((process) => process.start()));
      log(`${options.scenario}: ${group.name || 'first'} group up (${made.length} processes, flows ${group.flows.map((flow) => `${flow.name}: ${flow.destinations.map((d) => d.name).join(',')}`).join('; ')})`);
      return { name: group.name, flowFile, flows: group.flows, ingress, dispatchers, workers, dashboards, processes: made };
    };

    const first = await startGroup({ name: '', flows: [{ name: FLOW, destinations: options.destinations }], topology: options.topology }, options.flowsVolume === true);
    log(`${options.scenario}: redis ${theRedis.url}, logs in ${logDir}`);

    const faults: FaultRecord[] = [];
    const inFlightAtFaults = new Map<string, Map<string, number>>();
    let workerHits = 0;

    const remainingWork = async (): Promise<string | undefined> => {
      const counts = await Promise.all([...queues.values()].map(async (queue) => [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children')] as const));
      const busy = counts.filter(([, byState]) => Object.values(byState).some((n) => n > 0)).map(([name, byState]) => `${name} ${JSON.stringify(byState)}`);
      const groups = (await theObserver.xinfo('GROUPS', keys.partitions[0]!.stream).catch(() => [])) as unknown[][];
      const stream = (await theObserver.xinfo('STREAM', keys.partitions[0]!.stream).catch(() => [])) as unknown[];
      const field = (list: unknown[], name: string): unknown => list[list.indexOf(name) + 1];
      const group = groups.map((list) => list).find((list) => field(list, 'name') === DISPATCHER_GROUP);
      const lastId = field(stream, 'last-generated-id');
      if (!group) {
        if (stream.length > 0) busy.push('stream: no dispatcher group yet');
      } else {
        const pending = Number(field(group, 'pending'));
        const delivered = field(group, 'last-delivered-id');
        if (pending > 0) busy.push(`stream: ${pending} entries pending in the dispatcher group`);
        if (lastId !== undefined && delivered !== lastId) busy.push(`stream: group read up to ${String(delivered)}, stream at ${String(lastId)}`);
      }
      return busy.length > 0 ? busy.join('; ') : undefined;
    };

    const harness: Harness = {
      options,
      dir,
      logDir,
      prefix,
      redis: theRedis,
      receiver: theReceiver,
      ingress: first.ingress,
      dispatchers: first.dispatchers,
      workers: first.workers,
      dashboards: first.dashboards,
      processes,
      faults,
      startedAt,
      startGroup: (group) => startGroup(group),
      async updateFlows(specs) {
        if (!volume) throw new Error('updateFlows needs the harness option flowsVolume');
        watch(specs);
        await volume.update(flowFolderFiles(specs, theReceiver.urlOf));
      },
      fault(kind, target, detail, at = Date.now()) {
        const record: FaultRecord = { atMs: at - startedAt, kind, target, ...(detail ? { detail } : {}) };
        faults.push(record);
        log(`${options.scenario}: +${(record.atMs / 1_000).toFixed(1)}s ${kind} ${target}${detail ? ` (${detail})` : ''}`);
      },
      markInFlight(windowMs) {
        const attempts = theReceiver.inFlight(windowMs);
        for (const attempt of attempts) {
          let byId = inFlightAtFaults.get(attempt.destination);
          if (!byId) inFlightAtFaults.set(attempt.destination, (byId = new Map()));
          byId.set(attempt.webhookId, (byId.get(attempt.webhookId) ?? 0) + 1);
        }
        return attempts.length;
      },
      workersHit(count) {
        workerHits += count;
      },
      startLoad({ flow = FLOW, ingress = () => first.ingress, ...loadOptions }) {
        let next = 0;
        return startLoad({
          ...loadOptions,
          flow,
          target: () => {
            const candidates = ingress();
            return candidates[next++ % candidates.length]!.url;
          },
        });
      },
      async settle(loads, deadlineMs) {
        await Promise.all(loads.map(({ load }) => load.done));
        const started = Date.now();
        const deadline = started + deadlineMs;
        let remaining = 'not checked';
        const allDelivered = (): string | undefined => {
          for (const { load, meantFor = byFilter(load), poison } of loads) {
            for (const destination of destinationsOf(load.flow)) {
              const delivered = new Set(attemptsAt(destination.name).filter((a) => typeof a.status === 'number' && a.status < 300).map((a) => a.webhookId));
              let missing = 0;
              for (const [seq, outcome] of load.outcomes) {
                if (outcome.kind !== 'acked' || poison?.get(destination.name)?.has(seq) || !meantFor(destination, seq)) continue;
                if (!delivered.has(outcome.id)) missing += 1;
              }
              if (missing > 0) return `${load.flow}/${destination.name}: ${missing} acked events not delivered yet`;
            }
          }
          return undefined;
        };
        let lastTotal = progress();
        let lastProgressAt = Date.now();
        while (Date.now() < deadline) {
          if (progress() !== lastTotal) {
            lastTotal = progress();
            lastProgressAt = Date.now();
          } else if (Date.now() - lastProgressAt > STALL_MS) {
            return { quiescent: false, waitedMs: Date.now() - started, remaining: `no delivery for ${STALL_MS / 1_000} s; ${remaining}` };
          }
          const waiting = allDelivered() ?? (await probe(remainingWork, 5_000));
          if (waiting === undefined) {
            // Quiet once; a stalled job or a late claim could still be on its way, so look again after a pause.
            await sleep(1_500);
            const again = await probe(remainingWork, 5_000);
            if (again === undefined) return { quiescent: true, waitedMs: Date.now() - started, remaining: '' };
            remaining = again;
          } else remaining = waiting;
          await sleep(500);
        }
        return { quiescent: false, waitedMs: Date.now() - started, remaining };
      },
      async report(loads, quiescence, extra = {}) {
        await destinationObserver?.refresh();
        const deliveries: ScenarioReport['deliveries'][number][] = [];
        const jobs: JobCounters[] = [];
        const examples: string[] = [];
        const repeatBudget = new Map<string, number>();
        for (const destinations of flows.values()) for (const destination of destinations.values()) repeatBudget.set(destination.name, workerHits * destination.concurrency);
        for (const { load, meantFor = byFilter(load), poison } of loads) {
          const destinations = destinationsOf(load.flow);
          const inspection = await inspectJobs({
            redis: theObserver,
            prefix,
            flow: load.flow,
            destinations,
            outcomes: load.outcomes,
            types: load.types,
            meantFor,
            ...(poison ? { poison } : {}),
            receivedIds: (destination) => attemptsAt(destination).map((attempt) => attempt.webhookId),
          });
          const check = checkDeliveries({
            outcomes: load.outcomes,
            types: load.types,
            destinations,
            meantFor,
            attempts: attemptsAt,
            inFlightAtFaults,
            recordedAttempts: inspection.recordedAttempts,
            repeatBudget,
            origin: startedAt,
            keys: load.keys,
            streamIds: inspection.streamIds,
            ...(poison ? { poison } : {}),
          });
          deliveries.push(...check.destinations.map((counters) => ({ flow: load.flow, ...counters })));
          jobs.push(...inspection.destinations);
          examples.push(...check.examples, ...inspection.examples);
        }
        const outcomes = loads.flatMap(({ load }) => [...load.outcomes.values()]);
        const count = (kind: string): number => outcomes.filter((outcome) => outcome.kind === kind).length;
        const answers = answersByCode(loads.flatMap(({ load }) => load.answers));
        const falseRefusals = loads.reduce((sum, { load }) => sum + falseRefusalsOf(load), 0);
        const dispatcherDeadLetters = (await Promise.all(keys.partitions.map((partition) => theObserver.xlen(partition.dispatchDeadLetters)))).reduce((sum, n) => sum + n, 0);

        const violations = [...(extra.violations ?? []), ...(destinationObserver?.violations() ?? [])];
        if (!quiescence.quiescent) violations.push(`not quiescent after ${quiescence.waitedMs} ms: ${quiescence.remaining}`);
        for (const counters of deliveries) {
          const name = `${counters.flow}/${counters.destination}`;
          if (counters.lost > 0) violations.push(`${name}: lost ${counters.lost}`);
          if (counters.unexpected > 0) violations.push(`${name}: unexpected ${counters.unexpected}`);
          if (counters.outOfOrder > 0) violations.push(`${name}: ${counters.outOfOrder} events attempted before an earlier event of their line was delivered or dead-lettered`);
          if (counters.unexplainedDuplicates > 0) violations.push(`${name}: ${counters.unexplainedDuplicates} duplicates beyond one repeat per fault that caught the attempt in flight`);
        }
        for (const counters of jobs) {
          const name = `${counters.flow}/${counters.destination}`;
          if (counters.recreatedJobs > 0) violations.push(`${name}: ${counters.recreatedJobs} jobs created again after an attempt`);
          if (counters.attemptRegressions > 0) violations.push(`${name}: ${counters.attemptRegressions} attempt logs restart their numbering`);
          if (counters.falseDeadLetters > 0) violations.push(`${name}: ${counters.falseDeadLetters} false dead letters (the destination took every event but the poison ones)`);
          if (counters.undeliveredRecords > 0) violations.push(`${name}: ${counters.undeliveredRecords} acked deliveries whose record does not say delivered`);
          if (counters.stuckOpen > 0) violations.push(`${name}: ${counters.stuckOpen} deliveries still in the open set (they hold back the stream trim)`);
        }
        if (falseRefusals > 0) violations.push(`${falseRefusals} requests answered "not stored" were stored (a repeat with the same webhook-id found them)`);
        const expectedDead = extra.expectedDispatcherDeadLetters ?? 0;
        if (dispatcherDeadLetters !== expectedDead) violations.push(`${dispatcherDeadLetters} dispatcher dead letters, expected ${expectedDead}`);
        return {
          scenario: options.scenario,
          seed: options.seed,
          events: outcomes.length,
          acked: count('acked'),
          refused: count('refused'),
          indeterminate: count('indeterminate'),
          answers,
          falseRefusals,
          dispatcherDeadLetters,
          faults,
          crashes: processes.reduce((sum, process) => sum + process.crashes.length, 0),
          quiescence,
          deliveries,
          jobs,
          violations,
          examples: [...(extra.examples ?? []), ...examples],
          notes: extra.notes ?? [],
          durationMs: Date.now() - startedAt,
          logDir,
        };
      },
      close,
    };
    return harness;
  } catch (error) {
    await close(true);
    throw error;
  }
}
