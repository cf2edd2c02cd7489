import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys, DISPATCHER_GROUP } from '@fanout/redis';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { checkDeliveries, type DeliveryCounters } from './checker.js';
import { matches, writeFlowFile, type DestinationSpec } from './flow-file.js';
import { inspectJobs, type JobCounters } from './inspect-jobs.js';
import { startLoad, type Load, type LoadOptions } from './load-generator.js';
import { startRecordingReceiver, type ReceivedAttempt, type RecordingReceiver } from './recording-receiver.js';
import { startRedisUnderTest, type RedisUnderTest } from './redis-under-test.js';
import { createRoleProcess, type Role, type RoleProcess } from './role-process.js';

export const FLOW = 'faults';

export interface Topology {
  readonly ingress: number;
  readonly dispatcher: number;
  readonly worker: number;
}

export interface HarnessOptions {
  readonly scenario: string;
  readonly seed: number;
  readonly destinations: readonly DestinationSpec[];
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
  readonly events: number;
  readonly acked: number;
  readonly refused: number;
  readonly indeterminate: number;
  readonly faults: readonly FaultRecord[];
  /** Role processes that exited without the harness asking (restarted, as a supervisor would). */
  readonly crashes: number;
  readonly quiescence: Quiescence;
  readonly deliveries: readonly DeliveryCounters[];
  readonly jobs: readonly JobCounters[];
  readonly violations: string[];
  readonly examples: readonly string[];
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
  readonly ingress: readonly RoleProcess[];
  readonly dispatchers: readonly RoleProcess[];
  readonly workers: readonly RoleProcess[];
  readonly processes: readonly RoleProcess[];
  readonly faults: FaultRecord[];
  readonly startedAt: number;
  /** Records a fault for the report; `at` (unix ms) when it began earlier than now. */
  fault(kind: string, target: string, detail?: string, at?: number): void;
  /** Marks the receiver's attempts in flight now (or answered within `windowMs`) as ones a fault may repeat; returns how many. */
  markInFlight(windowMs: number): number;
  /** Counts `processes` worker processes whose in-flight attempts a fault may have cut off unrecorded (each may repeat once). */
  workersHit(processes: number): void;
  /** The load generator, aimed at the ingress processes in turn. */
  startLoad(options: Omit<LoadOptions, 'target' | 'flow'>): Load;
  /**
   * Waits until every acked event reached its destinations and nothing is left in the stream
   * or the queues; gives up after `deadlineMs`, or sooner once nothing has been delivered for
   * 90 s (a slow system keeps settling, a stuck one does not).
   */
  settle(load: Load, deadlineMs: number, poison?: ReadonlyMap<string, ReadonlySet<number>>): Promise<Quiescence>;
  /** The counters, the job inspection and the generic pass criteria. */
  report(load: Load, quiescence: Quiescence, extra?: { poison?: ReadonlyMap<string, ReadonlySet<number>>; violations?: string[]; examples?: string[] }): Promise<ScenarioReport>;
  /** Stops every process and Redis; removes the run's folder unless `keep`. */
  close(keep: boolean): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
  const startedAt = Date.now();
  const processes: RoleProcess[] = [];
  let redis: RedisUnderTest | undefined;
  let receiver: RecordingReceiver | undefined;
  let observer: Redis | undefined;
  const queues: Queue[] = [];

  const close = async (keep: boolean): Promise<void> => {
    await Promise.allSettled(processes.map((process) => process.close()));
    await Promise.allSettled(queues.map((queue) => queue.close()));
    observer?.disconnect();
    await receiver?.close().catch(() => {});
    await redis?.stop().catch(() => {});
    if (!keep) await rm(dir, { recursive: true, force: true });
  };

  try {
    redis = await startRedisUnderTest(join(dir, 'redis'));
    receiver = await startRecordingReceiver();
    const flowFile = join(dir, 'flow.yaml');
    await writeFlowFile(flowFile, FLOW, options.destinations, receiver.urlOf);
    // FANOUT_* variables of the harness's own environment reach every role and override the
    // scenario's recovery settings; the ones that define the scenario's world win over both.
    const passedOn = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('FANOUT_') && entry[1] !== undefined));
    const env = {
      ...options.productEnv,
      ...passedOn,
      REDIS_URL: redis.url,
      FANOUT_FLOWS: flowFile,
      FANOUT_REDIS_PREFIX: prefix,
      FANOUT_SHUTDOWN_GRACE: `${options.shutdownGraceMs}ms`,
      LOG_LEVEL: 'warn',
    };
    const make = async (role: Role, count: number): Promise<RoleProcess[]> => {
      const made: RoleProcess[] = [];
      for (let i = 1; i <= count; i += 1) {
        const name = `${role}-${i}`;
        const process = await createRoleProcess({ name, roles: [role], env, logFile: join(logDir, `${name}.log`) });
        made.push(process);
        processes.push(process);
      }
      return made;
    };
    const ingress = await make('ingress', options.topology.ingress);
    const dispatchers = await make('dispatcher', options.topology.dispatcher);
    const workers = await make('worker', options.topology.worker);
    await Promise.all(processes.map((process) => process.start()));
    log(`${options.scenario}: ${processes.length} processes up, redis ${redis.url}, logs in ${logDir}`);

    // A connection of the harness's own for reading queue depths and records; Queue needs `maxRetriesPerRequest: null`.
    observer = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100, connectionName: 'faults-inspect' });
    observer.on('error', () => {});
    const keys = createKeys(prefix);
    for (const destination of options.destinations) queues.push(new Queue(deliveryQueueName(FLOW, destination.name), { connection: observer, prefix: keys.bullPrefix }));

    const faults: FaultRecord[] = [];
    const inFlightAtFaults = new Map<string, Map<string, number>>();
    let nextIngress = 0;
    let workerHits = 0;
    const theReceiver = receiver;
    const theRedis = redis;
    const theObserver = observer;
    const destinationObserver = options.observer;
    const attemptsAt = (destination: string): readonly ReceivedAttempt[] => destinationObserver?.attempts(destination) ?? theReceiver.attempts(destination);
    const progress = (): number => theReceiver.total + (destinationObserver?.total ?? 0);

    const remainingWork = async (): Promise<string | undefined> => {
      const counts = await Promise.all(queues.map(async (queue) => [queue.name, await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'paused', 'waiting-children')] as const));
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
      ingress,
      dispatchers,
      workers,
      processes,
      faults,
      startedAt,
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
      startLoad(loadOptions) {
        return startLoad({
          ...loadOptions,
          flow: FLOW,
          target: () => {
            const process = ingress[nextIngress++ % ingress.length]!;
            return process.url;
          },
        });
      },
      async settle(load, deadlineMs, poison) {
        const started = Date.now();
        const deadline = started + deadlineMs;
        await load.done;
        let remaining = 'not checked';
        const allDelivered = (): string | undefined => {
          for (const destination of options.destinations) {
            const delivered = new Set(attemptsAt(destination.name).filter((a) => typeof a.status === 'number' && a.status < 300).map((a) => a.webhookId));
            let missing = 0;
            for (const [seq, outcome] of load.outcomes) {
              if (outcome.kind !== 'acked' || poison?.get(destination.name)?.has(seq) || !matches(destination, load.types.get(seq) ?? '')) continue;
              if (!delivered.has(outcome.id)) missing += 1;
            }
            if (missing > 0) return `${destination.name}: ${missing} acked events not delivered yet`;
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
      async report(load, quiescence, extra = {}) {
        await destinationObserver?.refresh();
        const jobs = await inspectJobs({
          redis: theObserver,
          prefix,
          flow: FLOW,
          destinations: options.destinations,
          outcomes: load.outcomes,
          types: load.types,
          receivedIds: (destination) => attemptsAt(destination).map((attempt) => attempt.webhookId),
        });
        const check = checkDeliveries({
          outcomes: load.outcomes,
          types: load.types,
          destinations: options.destinations,
          attempts: attemptsAt,
          inFlightAtFaults,
          recordedAttempts: jobs.recordedAttempts,
          repeatBudget: new Map(options.destinations.map((destination) => [destination.name, workerHits * destination.concurrency])),
          origin: startedAt,
          ...(extra.poison ? { poison: extra.poison } : {}),
        });
        const count = (kind: string): number => [...load.outcomes.values()].filter((outcome) => outcome.kind === kind).length;
        const violations = [...(extra.violations ?? []), ...(destinationObserver?.violations() ?? [])];
        if (!quiescence.quiescent) violations.push(`not quiescent after ${quiescence.waitedMs} ms: ${quiescence.remaining}`);
        for (const counters of check.destinations) {
          if (counters.lost > 0) violations.push(`${counters.destination}: lost ${counters.lost}`);
          if (counters.unexpected > 0) violations.push(`${counters.destination}: unexpected ${counters.unexpected}`);
          if (counters.unexplainedDuplicates > 0) violations.push(`${counters.destination}: ${counters.unexplainedDuplicates} duplicates beyond one repeat per fault that caught the attempt in flight`);
        }
        for (const counters of jobs.destinations) {
          if (counters.recreatedJobs > 0) violations.push(`${counters.destination}: ${counters.recreatedJobs} jobs created again after an attempt`);
          if (counters.attemptRegressions > 0) violations.push(`${counters.destination}: ${counters.attemptRegressions} attempt logs restart their numbering`);
        }
        return {
          scenario: options.scenario,
          seed: options.seed,
          events: load.outcomes.size,
          acked: count('acked'),
          refused: count('refused'),
          indeterminate: count('indeterminate'),
          faults,
          crashes: processes.reduce((sum, process) => sum + process.crashes.length, 0),
          quiescence,
          deliveries: check.destinations,
          jobs: jobs.destinations,
          violations,
          examples: [...(extra.examples ?? []), ...check.examples, ...jobs.examples],
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
