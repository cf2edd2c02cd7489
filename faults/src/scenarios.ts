import { hostname } from 'node:os';
import { readDeliveryRecord } from '@fanout/delivery';
import { encodeEventEntry } from '@fanout/event-log';
import { deliveryQueueName, openDeliveryQueue } from '@fanout/queues';
import { createKeys, DISPATCHER_GROUP } from '@fanout/redis';
import { matches, type DestinationSpec } from './flow-file.js';
import { ADMIN_TOKEN, FLOW, startHarness, type CheckedLoad, type DestinationObserver, type Harness, type ScenarioReport, type Topology } from './harness.js';
import { answersByCode, type Load } from './load-generator.js';
import { adminGet, counterTotal, failingChecks, pollUntil, readiness, type ProbeAnswer } from './probes.js';
import { createRandom, type Random } from './prng.js';
import type { Answer } from './recording-receiver.js';
import { formatCounts } from './report-table.js';
import type { RoleProcess } from './role-process.js';

/**
 * How fast the product recovers from a crash, set through its environment:
 * - `fast` (CI): FANOUT_CLAIM_IDLE=3s (a dead dispatcher's entries are claimed after 3 s),
 *   FANOUT_WORKER_LOCK=10s with 2 s destination timeouts (a killed worker's jobs come back
 *   after 10 s), FANOUT_STALLED_INTERVAL=1s. The Redis pause is 11.5 s: longer than the lock.
 * - `default`: the product's defaults (30 s claim idle, 30 s lock, 10 s stalled interval), 5 s
 *   destination timeouts, a 31 s pause.
 */
export type Recovery = 'fast' | 'default';

export interface RecoverySettings {
  /** FANOUT_* variables given to every role. */
  readonly env: Readonly<Record<string, string>>;
  /** Destination timeout, ms; the lock is max(FANOUT_WORKER_LOCK, 2 × timeout). */
  readonly destinationTimeoutMs: number;
  /** The workers' lock, ms, with that timeout. */
  readonly lockMs: number;
}

export const RECOVERY: Record<Recovery, RecoverySettings> = {
  fast: { env: { FANOUT_CLAIM_IDLE: '3s', FANOUT_WORKER_LOCK: '10s', FANOUT_STALLED_INTERVAL: '1s' }, destinationTimeoutMs: 2_000, lockMs: 10_000 },
  default: { env: {}, destinationTimeoutMs: 5_000, lockMs: 30_000 },
};

/** The size and pace of a run; the CI defaults are `CI_SIZE`, the CLI scales them with `--events`. */
export interface ScenarioConfig {
  readonly seed: number;
  /** Webhooks sent (sequence numbers 1..events). */
  readonly events: number;
  readonly ratePerSecond: number;
  /** Faults injected per scenario (kills, restarts, signals). */
  readonly faults: number;
  /** Redis pauses in the pause scenario. */
  readonly pauses: number;
  /** Length of one `CLIENT PAUSE`, ms; default the lock plus 1.5 s. */
  readonly pauseMs?: number;
  readonly recovery: Recovery;
  /** How long a scenario waits, after the load, for every acked event to be delivered. */
  readonly settleDeadlineMs: number;
  readonly workRoot?: string;
  readonly log?: (line: string) => void;
  /** Keep the run's folder (logs) even when it passed. */
  readonly keep?: boolean;
}

export const CI_SIZE = { events: 300, ratePerSecond: 50, faults: 3, pauses: 1, recovery: 'fast', settleDeadlineMs: 120_000 } as const satisfies Omit<ScenarioConfig, 'seed'>;

/** The pause that outlasts the workers' lock. */
export const pauseMsOf = (config: ScenarioConfig): number => config.pauseMs ?? RECOVERY[config.recovery].lockMs + 1_500;

export interface Scenario {
  readonly name: string;
  /** What is done and what must hold. */
  readonly summary: string;
  run(config: ScenarioConfig): Promise<ScenarioReport>;
}

/** How long after a fault an attempt answered earlier may still be unrecorded by its worker. */
export const ANSWER_WINDOW_MS = 2_000;
/** Events whose seq is a multiple of this are of type `u`; d3 only takes type `t`. */
const OTHER_TYPE_EVERY = 4;
export const typeOf = (seq: number): string => (seq % OTHER_TYPE_EVERY === 0 ? 'u' : 't');

export function destinations(config: ScenarioConfig, overrides: Partial<DestinationSpec> = {}): DestinationSpec[] {
  const base = { attempts: 10, timeoutMs: RECOVERY[config.recovery].destinationTimeoutMs, retryDelayMs: 200, maxRetryDelayMs: 2_000, concurrency: 8, ...overrides };
  return [
    { name: 'd1', ...base },
    { name: 'd2', ...base },
    { name: 'd3', ...base, eventTypes: ['t'] },
  ];
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fault moments, ms after the load starts, spread over its middle 80 %. */
export function faultTimes(random: Random, count: number, loadMs: number): number[] {
  return Array.from({ length: count }, () => random.between(0.1, 0.9) * loadMs).sort((a, b) => a - b);
}

/** Runs `inject` at each of `times` (ms after `startedAt`), one after the other. */
export async function atTimes(startedAt: number, times: readonly number[], inject: (index: number) => Promise<void>): Promise<void> {
  for (const [index, time] of times.entries()) {
    const wait = startedAt + time - Date.now();
    if (wait > 0) await sleep(wait);
    await inject(index);
  }
}

/** Waits until `condition` holds, at most `ms`; says whether it did. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number, everyMs = 5): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(everyMs);
  }
  return false;
}

export interface Setup {
  readonly destinations?: DestinationSpec[];
  readonly topology?: Topology;
  readonly shutdownGraceMs?: number;
  /** FANOUT_* variables of every role beyond the recovery settings. */
  readonly productEnv?: Readonly<Record<string, string>>;
  /** How the receiver answers; default 200 after `receiverDelayMs`. */
  readonly answer?: (random: Random) => (attempt: { destination: string; seq: number | undefined }) => Answer;
  readonly receiverDelayMs?: number;
  /** Requests in flight from the load generator. */
  readonly loadConcurrency?: number;
  /** The ordering key each event's body carries (`$.key`). Default: none. */
  readonly keyOf?: (seq: number) => string;
  /** Events per second of the load on `faults`; default the config's. */
  readonly ratePerSecond?: number;
  /** The load sends webhook-ids, and sends requests in doubt again for this long (ms). Default: neither. */
  readonly retryInDoubtMs?: number;
  /** Which ingress processes the load on `faults` goes to, read at each request; default the first group's. */
  readonly ingress?: (harness: Harness) => () => readonly RoleProcess[];
  /** What the destinations that are not the recording receiver hold. */
  readonly observer?: DestinationObserver;
  /** The first group's flows in a ConfigMap-like folder, which `harness.updateFlows` changes. */
  readonly flowsVolume?: boolean;
}

/** What a scenario's faults add to the run's checks and report. */
export interface Injected {
  readonly violations?: string[];
  readonly examples?: string[];
  readonly notes?: string[];
  readonly poison?: ReadonlyMap<string, ReadonlySet<number>>;
  /** What each event of the load on `faults` is meant for; default its destinations' filters. */
  readonly meantFor?: CheckedLoad['meantFor'];
  /** Loads the scenario started itself (on other flows), checked as the main one is. */
  readonly moreLoads?: readonly CheckedLoad[];
  readonly expectedDispatcherDeadLetters?: number;
  /** Checks run after the run settled. */
  readonly after?: (harness: Harness, load: Load) => Promise<{ violations: string[]; examples: string[]; notes?: string[] }>;
}

/** Every load's request timeout: longer than any answer the ingress gives (1 s Redis timeouts). */
export const REQUEST_TIMEOUT_MS = 5_000;
/** How long a refused request is sent again, as a client would. */
export const RETRY_REFUSED_MS = 5_000;

export async function runScenario(name: string, config: ScenarioConfig, setup: Setup, inject: Inject): Promise<ScenarioReport> {
  const random = createRandom(config.seed).fork(name);
  const dests = setup.destinations ?? destinations(config);
  const harness = await startHarness({
    scenario: name,
    seed: config.seed,
    destinations: dests,
    topology: setup.topology ?? { ingress: 1, dispatcher: 2, worker: 2 },
    shutdownGraceMs: setup.shutdownGraceMs ?? 3_000,
    productEnv: { ...RECOVERY[config.recovery].env, ...setup.productEnv },
    ...(config.workRoot ? { workRoot: config.workRoot } : {}),
    ...(config.log ? { log: config.log } : {}),
    ...(setup.observer ? { observer: setup.observer } : {}),
    ...(setup.flowsVolume ? { flowsVolume: true } : {}),
  });
  let report: ScenarioReport | undefined;
  try {
    const delayMs = setup.receiverDelayMs ?? 20;
    const answer = setup.answer?.(random.fork('answers'));
    harness.receiver.answerWith(answer ?? (() => ({ status: 200, delayMs })));
    const ratePerSecond = setup.ratePerSecond ?? config.ratePerSecond;
    const loadMs = (config.events * 1_000) / ratePerSecond;
    const load = harness.startLoad({
      count: config.events,
      ratePerSecond,
      concurrency: setup.loadConcurrency ?? 16,
      timeoutMs: REQUEST_TIMEOUT_MS,
      retryRefusedMs: RETRY_REFUSED_MS,
      typeOf,
      ...(setup.keyOf ? { keyOf: setup.keyOf } : {}),
      ...(setup.retryInDoubtMs !== undefined ? { webhookIds: true, retryInDoubtMs: setup.retryInDoubtMs } : {}),
      ...(setup.ingress ? { ingress: setup.ingress(harness) } : {}),
    });
    const injected = await inject(harness, load, random.fork('faults'), loadMs);
    const loads: CheckedLoad[] = [
      { load, ...(injected.meantFor ? { meantFor: injected.meantFor } : {}), ...(injected.poison ? { poison: injected.poison } : {}) },
      ...(injected.moreLoads ?? []),
    ];
    const quiescence = await harness.settle(loads, config.settleDeadlineMs);
    const after = injected.after ? await injected.after(harness, load) : { violations: [], examples: [] };
    report = await harness.report(loads, quiescence, {
      violations: [...(injected.violations ?? []), ...after.violations],
      examples: [...(injected.examples ?? []), ...after.examples],
      notes: [...(injected.notes ?? []), ...(after.notes ?? [])],
      ...(injected.expectedDispatcherDeadLetters !== undefined ? { expectedDispatcherDeadLetters: injected.expectedDispatcherDeadLetters } : {}),
    });
    return report;
  } finally {
    await harness.close(config.keep === true || !report || report.violations.length > 0);
  }
}

/** The dispatcher's consumer name in the group (`<host>-<pid>`, set by the all-in-one process). */
const consumerOf = (process: RoleProcess): string => `${hostname()}-${process.pid ?? 0}`;

/** Waits (up to 2 s) until the dispatcher holds read but unacknowledged entries: it is mid-batch. */
async function waitUntilMidBatch(harness: Harness, dispatcher: RoleProcess): Promise<boolean> {
  const stream = createKeys(harness.prefix).partitions[0]!.stream;
  const consumer = consumerOf(dispatcher);
  return waitUntil(async () => {
    const summary = (await harness.redis.observer.xpending(stream, DISPATCHER_GROUP).catch(() => [])) as unknown[];
    const consumers = (summary[3] ?? []) as [string, string][];
    return consumers.some(([name, count]) => name === consumer && Number(count) > 0);
  }, 2_000, 2);
}

/** What a scenario does to its run: the faults, and what they add to the checks. */
export type Inject = (harness: Harness, load: Load, random: Random, loadMs: number) => Promise<Injected>;

/** SIGKILLs a dispatcher mid-batch at each fault time, and starts it again. */
export const killDispatchers =
  (config: ScenarioConfig): Inject =>
  async (harness, _load, random, loadMs) => {
    await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
      const target = random.pick(harness.dispatchers);
      const midBatch = await waitUntilMidBatch(harness, target);
      await target.signal('SIGKILL');
      harness.fault('SIGKILL', target.name, midBatch ? 'mid-batch: it held pending entries' : 'no pending entries seen within 2 s');
      await sleep(random.int(0, 500));
      await target.start();
    });
    return {};
  };

export const dispatcherKill: Scenario = {
  name: 'dispatcher-kill',
  summary: 'SIGKILL a dispatcher mid-batch (it holds read, unacknowledged entries), restart it; the other claims its entries after claimIdleMs. lost 0, unexpected 0, duplicated 0.',
  run: (config) => runScenario('dispatcher-kill', config, {}, killDispatchers(config)),
};

export const workerKill: Scenario = {
  name: 'worker-kill',
  summary: 'SIGKILL a worker while attempts are in flight, restart it; its jobs come back when their lock expires. lost 0, unexpected 0; only attempts in flight at a kill may repeat, once per kill.',
  run: (config) =>
    runScenario('worker-kill', config, { receiverDelayMs: 150 }, async (harness, _load, random, loadMs) => {
      await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
        const target = random.pick(harness.workers);
        await waitUntil(() => harness.receiver.inFlight(0).length > 0, 2_000);
        await target.signal('SIGKILL');
        // Requests it wrote just before dying may reach the receiver a moment later.
        await sleep(300);
        const inFlight = harness.markInFlight(ANSWER_WINDOW_MS);
        harness.workersHit(1);
        harness.fault('SIGKILL', target.name, `${inFlight} attempts in flight (any worker)`);
        await sleep(random.int(0, 1_000));
        await target.start();
      });
      return {};
    }),
};

export const ingressKill: Scenario = {
  name: 'ingress-kill',
  summary: 'SIGKILL one of two ingress processes while requests are in flight, restart it; refused requests are retried, as clients do. Every 202 delivered (lost 0), nothing refused delivered (unexpected 0), duplicated 0; requests cut off are in doubt.',
  run: (config) =>
    runScenario('ingress-kill', config, { topology: { ingress: 2, dispatcher: 1, worker: 1 }, loadConcurrency: 24 }, async (harness, _load, random, loadMs) => {
      await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
        const target = random.pick(harness.ingress);
        await target.signal('SIGKILL');
        harness.fault('SIGKILL', target.name);
        await sleep(random.int(200, 800));
        await target.start();
      });
      return {};
    }),
};

/** SIGKILLs redis-server at each fault time and restarts it from its AOF after 0.2-1 s. */
export const killRedis =
  (config: ScenarioConfig): Inject =>
  async (harness, _load, random, loadMs) => {
    await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
      const killedAt = Date.now();
      await harness.redis.kill();
      const downMs = random.int(200, 1_000);
      await sleep(downMs);
      await harness.redis.restart();
      await sleep(300);
      const inFlight = harness.markInFlight(Date.now() - killedAt + ANSWER_WINDOW_MS);
      harness.workersHit(harness.workers.length);
      harness.fault('SIGKILL+restart', 'redis-server', `down ${Date.now() - killedAt} ms, ${inFlight} attempts in flight meanwhile`);
    });
    return {};
  };

export const redisKill: Scenario = {
  name: 'redis-kill',
  summary: 'SIGKILL redis-server (AOF, appendfsync always) under load, restart it from its AOF after 0.2-1 s. lost 0, unexpected 0; only attempts in flight while it was down may repeat.',
  run: (config) => runScenario('redis-kill', config, { receiverDelayMs: 50 }, killRedis(config)),
};

/** CLIENT PAUSE ALL, longer than the workers' lock, at each pause time while attempts are in flight. */
export const pauseRedis =
  (config: ScenarioConfig): Inject =>
  async (harness, _load, random, loadMs) => {
    await atTimes(Date.now(), faultTimes(random, config.pauses, loadMs), async () => {
      await waitUntil(() => harness.receiver.inFlight(0).length > 0, 2_000);
      const pausedAt = Date.now();
      const pauseMs = pauseMsOf(config);
      await harness.redis.pause(pauseMs);
      await sleep(pauseMs + 300);
      const inFlight = harness.markInFlight(Date.now() - pausedAt + ANSWER_WINDOW_MS);
      harness.workersHit(harness.workers.length);
      harness.fault('CLIENT PAUSE ALL', 'redis-server', `${pauseMs} ms, ${inFlight} attempts in flight during it`, pausedAt);
    });
    return {};
  };

export const redisPause: Scenario = {
  name: 'redis-pause',
  summary: 'CLIENT PAUSE ALL for longer than the workers\' lock under load: locks expire, jobs are taken again. lost 0, unexpected 0; only attempts in flight during the pause may repeat.',
  run: (config) => runScenario('redis-pause', config, { receiverDelayMs: 150 }, pauseRedis(config)),
};

/** Destination poison: d1 answers these 500 (retried, then dead), d2 never answers (timeouts), d3 410 (dead at once). */
const POISON_ANSWERS: Record<string, { answer: Answer; attempts: (spec: DestinationSpec) => number }> = {
  d1: { answer: { status: 500 }, attempts: (spec) => spec.attempts },
  d2: { answer: 'hang', attempts: (spec) => spec.attempts },
  d3: { answer: { status: 410 }, attempts: () => 1 },
};

export const poison: Scenario = {
  name: 'poison',
  summary:
    'Malformed and unroutable stream entries injected mid-load, and poison events each destination refuses (500, hang, 410). They are acknowledged or dead-lettered after exactly their attempts, and block nothing: lost 0, unexpected 0, duplicated 0.',
  run(config) {
    const specs = destinations(config, { attempts: 3, timeoutMs: 2_000, retryDelayMs: 100, maxRetryDelayMs: 500 });
    const poisonSeqs = new Map<string, Set<number>>(specs.map((spec) => [spec.name, new Set<number>()]));
    const seqRandom = createRandom(config.seed).fork('poison-seqs');
    for (let seq = 1; seq <= config.events; seq += 1) {
      if (seqRandom.next() < 0.03) poisonSeqs.get(seqRandom.pick(specs).name)!.add(seq);
    }
    const setup: Setup = {
      destinations: specs,
      answer: () => (attempt) => (attempt.seq !== undefined && poisonSeqs.get(attempt.destination)?.has(attempt.seq) ? POISON_ANSWERS[attempt.destination]!.answer : { status: 200, delayMs: 20 }),
    };
    return runScenario('poison', config, setup, async (harness, _load, random, loadMs) => {
      const stream = createKeys(harness.prefix).partitions[0]!.stream;
      const entries: [string, (string | Buffer)[]][] = [
        ['fields missing', ['garbage', 'x']],
        ['unknown flow', encodeEventEntry({ id: 'evt_poison_unknown_flow', flow: 'no-such-flow', receivedAt: Date.now(), contentType: 'application/json', body: Buffer.from('{"type":"t"}') })],
        ['bad receivedAt', ['id', 'evt_poison_bad_time', 'flow', 'faults', 'receivedAt', 'yesterday', 'contentType', 'application/json', 'body', '{"type":"t"}']],
      ];
      let injectedEntries = 0;
      await atTimes(Date.now(), faultTimes(random, Math.max(config.faults, entries.length), loadMs), async (index) => {
        const [label, fields] = entries[index % entries.length]!;
        await harness.redis.observer.xadd(stream, '*', ...fields);
        injectedEntries += 1;
        harness.fault('XADD', 'event stream', label);
      });
      return {
        poison: poisonSeqs,
        // Each bad entry ends in the dispatcher dead letters, and nothing else does.
        expectedDispatcherDeadLetters: injectedEntries,
        async after(h, load) {
          const violations: string[] = [];
          const examples: string[] = [];
          const keys = createKeys(h.prefix);
          for (const spec of specs) {
            const expectedAttempts = POISON_ANSWERS[spec.name]!.attempts(spec);
            let wrongAttempts = 0;
            let notDead = 0;
            for (const seq of poisonSeqs.get(spec.name)!) {
              const outcome = load.outcomes.get(seq);
              if (outcome?.kind !== 'acked' || (typeOf(seq) !== 't' && spec.eventTypes)) continue;
              const requests = h.receiver.attempts(spec.name).filter((attempt) => attempt.webhookId === outcome.id).length;
              const record = await readDeliveryRecord(h.redis.observer, keys.partitionOf(outcome.id), outcome.id, spec.name);
              if (requests !== expectedAttempts) {
                wrongAttempts += 1;
                examples.push(`${spec.name}: poison seq=${seq} got ${requests} requests, expected ${expectedAttempts}`);
              }
              if (record?.status !== 'dead') {
                notDead += 1;
                examples.push(`${spec.name}: poison seq=${seq} record ${record?.status ?? 'missing'}, expected dead`);
              }
            }
            if (wrongAttempts > 0) violations.push(`${spec.name}: ${wrongAttempts} poison events not attempted exactly ${expectedAttempts} times`);
            if (notDead > 0) violations.push(`${spec.name}: ${notDead} poison events not dead-lettered`);
          }
          return { violations, examples: examples.slice(0, 12) };
        },
      };
    });
  },
};

export const sigterm: Scenario = {
  name: 'sigterm',
  summary: 'SIGTERM each role in turn under load, restart it: each exits 0 within its grace; the draining ingress refuses (503 SHUTTING_DOWN). lost 0, unexpected 0; only attempts in flight at a stop may repeat.',
  run: (config) =>
    runScenario('sigterm', config, { receiverDelayMs: 150, shutdownGraceMs: 3_000 }, async (harness, _load, random, loadMs) => {
      const violations: string[] = [];
      const groups = [harness.ingress, harness.dispatchers, harness.workers];
      const order = random.int(0, groups.length - 1);
      await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async (index) => {
        const target = random.pick(groups[(order + index) % groups.length]!);
        const signalledAt = Date.now();
        const exit = await target.signal('SIGTERM', harness.options.shutdownGraceMs + 10_000);
        const isWorker = target.roles.includes('worker');
        const inFlight = isWorker ? harness.markInFlight(Date.now() - signalledAt + ANSWER_WINDOW_MS) : 0;
        if (isWorker) harness.workersHit(1);
        harness.fault('SIGTERM', target.name, `exit code ${exit.code} signal ${exit.signal} after ${Date.now() - signalledAt} ms${inFlight ? `, ${inFlight} attempts in flight` : ''}`);
        if (exit.code !== 0 || exit.timedOut) violations.push(`${target.name}: SIGTERM ended with code ${exit.code} signal ${exit.signal}${exit.timedOut ? ' (did not exit in time)' : ''}`);
        await sleep(random.int(0, 500));
        await target.start();
      });
      return { violations };
    }),
};

export const groupLost: Scenario = {
  name: 'group-lost',
  summary:
    'XGROUP DESTROY under load, after BullMQ trimmed the completed jobs (as it does at scale): the dispatchers recreate the group and read the whole stream again. No delivery made is sent again: lost 0, unexpected 0, duplicated 0, no job re-created.',
  run: (config) =>
    runScenario('group-lost', config, {}, async (harness, _load, random, loadMs) => {
      const keys = createKeys(harness.prefix);
      const queues = destinations(config).map(({ name }) => openDeliveryQueue(deliveryQueueName(FLOW, name), harness.redis.observer, keys.bullPrefix));
      try {
        await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
          // The completed jobs are gone: only the delivery records say those deliveries were made.
          const trimmed = (await Promise.all(queues.map((queue) => queue.clean(0, 1_000_000, 'completed')))).flat().length;
          await harness.redis.observer.xgroup('DESTROY', keys.partitions[0]!.stream, DISPATCHER_GROUP);
          harness.fault('XGROUP DESTROY', 'dispatchers', `after removing ${trimmed} completed jobs`);
        });
      } finally {
        await Promise.all(queues.map((queue) => queue.close()));
      }
      return {};
    }),
};

/** A rate at which the load lasts at least `seconds`, the config's at most: a scenario whose faults take that long happens under load. */
export const rateLasting = (config: ScenarioConfig, seconds: number): number => Math.min(config.ratePerSecond, config.events / seconds);

/** Waits until unix ms `at`. */
export const sleepUntil = (at: number): Promise<void> => sleep(Math.max(0, at - Date.now()));

/** A process's readiness answers as one line for a note: how many said ready, how many not and why. */
function readinessSummary(name: string, answers: readonly ProbeAnswer[]): string {
  const notReady = answers.filter((answer) => answer.status !== 200);
  const reasons = [...new Set(notReady.flatMap((answer) => (answer.status === 0 ? ['no answer'] : failingChecks(answer))))];
  return `${name} /readyz: ${answers.length - notReady.length} ready, ${notReady.length} not ready${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}`;
}

/** Polls /readyz of every process until `stop`, each process on its own. */
function pollReadiness(processes: readonly RoleProcess[], stop: Promise<unknown>, everyMs = 250): Promise<Map<RoleProcess, ProbeAnswer[]>> {
  return Promise.all(processes.map(async (process) => [process, await pollUntil(() => readiness(process.url), everyMs, stop)] as const)).then((entries) => new Map(entries));
}

/** How long after the harness's SIGTERM a process may still say ready: the signal reaching its handler. */
const SIGNAL_DELIVERY_MS = 100;

/** The destination the rollout adds to `faults`, and the one of the flow `ui` it adds. */
const ADDED_DESTINATION = 'd4';
const UI_FLOW = 'ui';

export const rollout: Scenario = {
  name: 'rollout',
  summary:
    'A rolling deploy under load: old processes (faults: d1-d3) and new ones (faults: d1-d4, and a new flow ui) side by side, then the old ones SIGTERMed. ' +
    'An event is delivered by the flow version of the ingress that answered 202: old ones never reach d4, new ones reach d1-d4, every ui event reaches ui. lost 0, unexpected 0, no dispatcher dead letter, no job re-created.',
  run(config) {
    /** The ingress processes a load balancer sends the load on `faults` to: old, then old and new, then new. */
    const live: RoleProcess[] = [];
    const setup: Setup = {
      topology: { ingress: 1, dispatcher: 1, worker: 1 },
      // 20 s at the CI size: starting three processes takes up to 6 s on a starved machine, and the old ones must stop while the load goes on.
      ratePerSecond: rateLasting(config, 20),
      ingress: (harness) => {
        live.push(...harness.ingress);
        return () => live;
      },
    };
    return runScenario('rollout', config, setup, async (harness, load, _random, loadMs) => {
      const violations: string[] = [];
      const notes: string[] = [];
      const startedAt = Date.now();
      const base = destinations(config);
      const added: DestinationSpec = { ...base[0]!, name: ADDED_DESTINATION };
      const uiDestination: DestinationSpec = { ...base[0]!, name: 'u1' };
      const old = [...harness.processes];

      await sleepUntil(startedAt + 0.15 * loadMs);
      const startingAt = Date.now();
      const next = await harness.startGroup({
        name: 'new',
        flows: [
          { name: FLOW, destinations: [...base, added] },
          { name: UI_FLOW, destinations: [uiDestination] },
        ],
        topology: { ingress: 1, dispatcher: 1, worker: 1 },
      });
      harness.fault('start', 'new group', `${next.processes.length} processes loading ${FLOW} with ${ADDED_DESTINATION} and flow ${UI_FLOW}, up in ${Date.now() - startingAt} ms`, startingAt);
      live.push(...next.ingress);
      const newIngress = new Set(next.ingress.map((process) => process.url));
      const ui = harness.startLoad({
        flow: UI_FLOW,
        ingress: () => next.ingress,
        count: Math.max(1, Math.round(config.events / 3)),
        ratePerSecond: setup.ratePerSecond! / 3,
        concurrency: 8,
        timeoutMs: REQUEST_TIMEOUT_MS,
        retryRefusedMs: RETRY_REFUSED_MS,
        typeOf,
      });

      // Old and new side by side for a while, then the old ones go, one after the other, as a deploy replaces them.
      await sleepUntil(Math.max(Date.now() + 1_000, startedAt + 0.55 * loadMs));
      for (const process of old) {
        const signalledAt = Date.now();
        const exiting = process.signal('SIGTERM', harness.options.shutdownGraceMs + 10_000);
        // What a load balancer's health check sees while it drains: not ready, from the signal on.
        const [exit, draining] = await Promise.all([exiting, pollUntil(() => readiness(process.url, 1_000), 50, exiting)]);
        const late = draining.filter((answer) => answer.at >= signalledAt + SIGNAL_DELIVERY_MS);
        const afterSignal = late.filter((answer) => answer.status !== 0);
        const saidReady = afterSignal.filter((answer) => answer.status === 200).length;
        const checks = [...new Set(afterSignal.flatMap(failingChecks))].join('; ');
        notes.push(
          `${process.name} draining: /readyz asked ${late.length} times from ${SIGNAL_DELIVERY_MS} ms after SIGTERM: ${afterSignal.length - saidReady} not ready${checks ? ` (${checks})` : ''}, ` +
            `${saidReady} ready, ${late.length - afterSignal.length} without an answer (listener closed)`,
        );
        if (saidReady > 0) violations.push(`${process.name}: /readyz said ready ${saidReady} times while draining after SIGTERM`);
        const index = live.indexOf(process);
        if (index !== -1) live.splice(index, 1);
        const isWorker = process.roles.includes('worker');
        const inFlight = isWorker ? harness.markInFlight(Date.now() - signalledAt + ANSWER_WINDOW_MS) : 0;
        if (isWorker) harness.workersHit(1);
        harness.fault('SIGTERM', process.name, `old version; exit code ${exit.code} after ${Date.now() - signalledAt} ms${inFlight ? `, ${inFlight} attempts in flight` : ''}`, signalledAt);
        if (exit.code !== 0 || exit.timedOut) violations.push(`${process.name}: SIGTERM ended with code ${exit.code} signal ${exit.signal}${exit.timedOut ? ' (did not exit in time)' : ''}`);
      }
      if (load.sent >= config.events) violations.push(`the load on ${FLOW} had ended (${load.sent} sent) before the last old process stopped: the rollout did not happen under load`);
      else notes.push(`old processes all stopped after ${load.sent} of ${config.events} events were sent`);

      const meantFor = (destination: DestinationSpec, seq: number): boolean =>
        matches(destination, load.types.get(seq) ?? '') && (destination.name !== ADDED_DESTINATION || newIngress.has(load.outcomes.get(seq)?.via ?? ''));
      return {
        violations,
        notes,
        meantFor,
        moreLoads: [{ load: ui }],
        async after() {
          const byVersion = (version: 'old' | 'new'): number => [...load.outcomes.values()].filter((outcome) => outcome.kind === 'acked' && newIngress.has(outcome.via) === (version === 'new')).length;
          const afterViolations: string[] = [];
          if (byVersion('old') === 0 || byVersion('new') === 0) afterViolations.push(`the load on ${FLOW} was not answered by both versions (old ${byVersion('old')}, new ${byVersion('new')})`);
          return { violations: afterViolations, examples: [], notes: [`${FLOW}: 202 from the old version ${byVersion('old')}, from the new ${byVersion('new')}; ${UI_FLOW}: ${formatCounts(answersByCode(ui.answers))}`] };
        },
      };
    });
  },
};

/** What Redis's memory is set to in the out-of-memory scenario (at least this; more if the data is already larger). */
const OOM_MAXMEMORY_BYTES = 20 * 1024 * 1024;
/**
 * How long Redis is held at its maxmemory: long enough for /readyz's 1 s probe to see it
 * several times, shorter than the workers' lock (OOM_LOCK_MS, at every recovery setting):
 * a job whose lock cannot be renewed meanwhile must not be taken again.
 */
const OOM_HOLD_MS = 10_000;
const OOM_LOCK_MS = 30_000;
/** Where the filler brings Redis before the load fills the rest up to the ingress's limit (90 % by default). */
const OOM_PREFILL_SHARE = 0.88;
const FILLER_BYTES = 16 * 1024;
/** How long the receiver takes to answer while Redis fills up: below the 2 s destination timeout, long enough to keep attempts in flight. */
const OOM_SLOW_ANSWER_MS = 1_000;
/** The ingress's answer when its memory limit, not Redis, refused the event (apps/ingress refuseNearFullRedis). */
const FROM_LIMIT = /^Redis uses \d+% of its maxmemory/;

async function usedMemory(harness: Harness): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await harness.redis.observer.info('memory'))?.[1] ?? 0);
}

export const redisOom: Scenario = {
  name: 'redis-oom',
  summary:
    'Redis at a 20 MB maxmemory under load: filled to the ingress memory limit (503 REDIS_MEMORY_FULL), then to maxmemory (writes refused), held, then raised. ' +
    'lost 0, unexpected 0 (nothing answered REDIS_MEMORY_FULL is delivered), no attempt re-sent, no false dead letter, no stuck open delivery; /readyz not ready while full; all recovers by itself.',
  run: (config) =>
    runScenario(
      'redis-oom',
      config,
      {
        topology: { ingress: 1, dispatcher: 1, worker: 2, dashboard: 1 },
        receiverDelayMs: 100,
        ratePerSecond: rateLasting(config, 25),
        productEnv: { FANOUT_WORKER_LOCK: `${OOM_LOCK_MS}ms` },
      },
      async (harness, load, _random, loadMs) => {
        const violations: string[] = [];
        const notes: string[] = [];
        const redis = harness.redis.observer;
        const startedAt = Date.now();
        const holdMs = OOM_HOLD_MS;
        let fillers = 0;
        const addFiller = (): Promise<unknown> => redis.set(`${harness.prefix}-filler:${(fillers += 1)}`, Buffer.alloc(FILLER_BYTES, 120));

        await sleepUntil(startedAt + 0.15 * loadMs);
        // Slow answers from now on: attempts are in flight when Redis refuses writes, and their outcomes must wait to be recorded.
        harness.receiver.answerWith(() => ({ status: 200, delayMs: OOM_SLOW_ANSWER_MS }));
        const maxBytes = Math.max(OOM_MAXMEMORY_BYTES, Math.ceil((await usedMemory(harness)) / 0.7));
        await redis.config('SET', 'maxmemory', String(maxBytes));
        for (let missing = OOM_PREFILL_SHARE * maxBytes - (await usedMemory(harness)); missing > 0; missing = OOM_PREFILL_SHARE * maxBytes - (await usedMemory(harness))) {
          const batch = redis.pipeline();
          for (let i = 0; i < Math.ceil(missing / FILLER_BYTES); i += 1) batch.set(`${harness.prefix}-filler:${(fillers += 1)}`, Buffer.alloc(FILLER_BYTES, 120));
          await batch.exec();
        }
        harness.fault('CONFIG SET maxmemory', 'redis-server', `${(maxBytes / 1_048_576).toFixed(1)} MB, filled to ${Math.round(OOM_PREFILL_SHARE * 100)} % with ${fillers} filler keys`);

        // The load fills the rest up to the ingress's limit; after 2 s, filler keys help it (as other tenants of the Redis would).
        const fromLimit = (): number => load.answers.filter((answer) => answer.code === 'REDIS_MEMORY_FULL' && FROM_LIMIT.test(answer.message ?? '')).length;
        const prefilledWith = fillers;
        const helpFrom = Date.now() + 2_000;
        const limitDeadline = Date.now() + 20_000;
        while (fromLimit() === 0 && Date.now() < limitDeadline) {
          if (Date.now() > helpFrom) await addFiller();
          await sleep(100);
        }
        if (fromLimit() === 0) violations.push('the ingress never answered REDIS_MEMORY_FULL from its memory limit');
        harness.fault('ingress memory limit reached', 'ingress', `${fillers - prefilledWith} more filler keys needed; used ${((await usedMemory(harness)) / 1_048_576).toFixed(1)} MB`);

        // Then to the very top: Redis refuses writes (OOM), the ones of the deliveries in flight too.
        for (;;) {
          try {
            await addFiller();
          } catch (error) {
            if (!/^OOM /.test((error as Error).message)) throw error;
            break;
          }
        }
        const fullAt = Date.now();
        harness.fault('maxmemory reached', 'redis-server', `Redis refuses writes (OOM); held ${holdMs} ms under load`);
        const held = sleep(holdMs);
        const anEvent = [...load.outcomes.values()].find((outcome) => outcome.kind === 'acked');
        // Held at the top: whatever the roles free (a trim, a reply buffer sent) the filler takes again.
        const topUp = { refused: 0, taken: 0, minShare: Infinity, maxShare: 0 };
        const holding = (async () => {
          let over = false;
          void held.then(() => (over = true));
          while (!over) {
            await addFiller().then(
              () => (topUp.taken += 1),
              () => (topUp.refused += 1),
            );
            const share = (await usedMemory(harness)) / maxBytes;
            topUp.minShare = Math.min(topUp.minShare, share);
            topUp.maxShare = Math.max(topUp.maxShare, share);
            await sleep(50);
          }
        })();
        const [readyDuringHold, adminDuringHold] = await Promise.all([
          pollReadiness(harness.processes, held),
          harness.dashboards[0] && anEvent?.kind === 'acked' ? pollUntil(() => adminGet(harness.dashboards[0]!.url, `/events/${anEvent.id}`, ADMIN_TOKEN), 500, held) : Promise.resolve([]),
        ]);
        await holding;
        if (load.sent >= config.events) violations.push(`the load had ended (${load.sent} sent) before maxmemory was raised: the scenario did not happen under load`);
        notes.push(`while full: used_memory ${(topUp.minShare * 100).toFixed(1)}-${(topUp.maxShare * 100).toFixed(1)} % of maxmemory; filler top-ups refused ${topUp.refused}, taken ${topUp.taken}`);
        await redis.config('SET', 'maxmemory', String(4 * maxBytes));
        const raisedAt = Date.now();
        harness.receiver.answerWith(() => ({ status: 200, delayMs: 100 }));
        harness.fault('CONFIG SET maxmemory', 'redis-server', `raised to ${((4 * maxBytes) / 1_048_576).toFixed(1)} MB after ${raisedAt - fullAt} ms at maxmemory`);

        for (const [process, answers] of readyDuringHold) {
          notes.push(`while full: ${readinessSummary(process.name, answers)}`);
          // The probe reads INFO memory once a second: answers in the hold's first 2 s may predate it.
          const settled = answers.filter((answer) => answer.at >= fullAt + 2_000);
          const saidReady = settled.filter((answer) => !(answer.status === 503 && failingChecks(answer).some((check) => check.startsWith('memory'))));
          if (settled.length === 0 || saidReady.length > 0) violations.push(`${process.name}: /readyz said ready (or not for memory) ${saidReady.length} of ${settled.length} times from 2 s into the hold at maxmemory`);
        }
        const slowAdmin = adminDuringHold.filter((answer) => answer.status !== 200 || answer.ms > 2_000);
        notes.push(`while full: GET /events/:id answered ${adminDuringHold.length} times, ${adminDuringHold.length - slowAdmin.length} of them 200 within 2 s (slowest ${Math.max(0, ...adminDuringHold.map((answer) => answer.ms))} ms)`);
        if (slowAdmin.length > 0) violations.push(`the admin API did not answer a read with 200 within 2 s while Redis was full: ${slowAdmin.slice(0, 3).map((answer) => `${answer.status} ${answer.code ?? ''} after ${answer.ms} ms`).join('; ')}`);

        // Recovery by itself: every process ready again, and the ingress taking events again.
        const recovered = await Promise.all(harness.processes.map(async (process) => [process, await waitUntil(async () => (await readiness(process.url)).status === 200, 15_000, 250)] as const));
        for (const [process, ready] of recovered) if (!ready) violations.push(`${process.name}: /readyz not ready 15 s after maxmemory was raised`);
        notes.push(`all processes ready again ${Date.now() - raisedAt} ms after maxmemory was raised`);

        return {
          violations,
          notes,
          async after(h, settled) {
            const memoryFull = settled.answers.filter((answer) => answer.code === 'REDIS_MEMORY_FULL');
            const limit = memoryFull.filter((answer) => FROM_LIMIT.test(answer.message ?? '')).length;
            const afterViolations: string[] = [];
            const ackedAfter = settled.answers.filter((answer) => answer.kind === 'acked' && answer.sentAt > raisedAt).length;
            if (ackedAfter === 0) afterViolations.push('no event was accepted after maxmemory was raised');
            const retries = (await Promise.all(h.workers.map((worker) => counterTotal(worker.url, 'fanout_record_retries_total')))).reduce((sum, n) => sum + n, 0);
            return {
              violations: afterViolations,
              examples: [],
              notes: [
                `REDIS_MEMORY_FULL answers: ${memoryFull.length} (${limit} from FANOUT_INGEST_MEMORY_LIMIT, ${memoryFull.length - limit} from Redis's own OOM refusal); 202 after the raise: ${ackedAfter}`,
                `record writes tried again by the workers (fanout_record_retries_total): ${retries}`,
              ],
            };
          },
        };
      },
    ),
};

/** How long the SIGSTOP scenario freezes Redis. */
const STOP_MS = 5_000;
/** "Within about a second": the admin API's longest answer allowed while Redis is frozen. */
const ADMIN_ANSWER_MS = 2_000;
/** "Not stored" answers: a lie while Redis is frozen, since every write sent meanwhile runs at SIGCONT. */
const NOT_STORED_CODES = new Set(['REDIS_UNAVAILABLE', 'REDIS_MEMORY_FULL']);

export const redisStop: Scenario = {
  name: 'redis-stop',
  summary:
    'SIGSTOP redis-server 5 s under load, then SIGCONT. The ingress answers REDIS_TIMEOUT (fate unknown), never "not stored"; the client sends those again with the same webhook-id and no event is stored twice. ' +
    'The admin API answers 503 REDIS_UNAVAILABLE within about a second and /readyz says not ready meanwhile. lost 0, unexpected 0.',
  run: (config) =>
    runScenario(
      'redis-stop',
      config,
      // 64 requests in flight: as a sender's fleet would have, so that many requests are caught in doubt.
      { topology: { ingress: 1, dispatcher: 1, worker: 2, dashboard: 1 }, receiverDelayMs: 50, ratePerSecond: rateLasting(config, 12), retryInDoubtMs: 30_000, loadConcurrency: 64 },
      async (harness, load, _random, loadMs) => {
        const violations: string[] = [];
        const notes: string[] = [];
        const startedAt = Date.now();
        await sleepUntil(startedAt + 0.3 * loadMs);
        await waitUntil(() => [...load.outcomes.values()].some((outcome) => outcome.kind === 'acked'), 10_000, 50);
        const anEvent = [...load.outcomes.values()].find((outcome) => outcome.kind === 'acked');
        const dashboard = harness.dashboards[0]!;

        const stoppedAt = Date.now();
        harness.redis.signal('SIGSTOP');
        let resume = (): void => {};
        const resumed = new Promise<void>((resolve) => (resume = resolve));
        const timer = setTimeout(() => {
          harness.redis.signal('SIGCONT');
          resume();
        }, STOP_MS);
        let readiness: Map<RoleProcess, ProbeAnswer[]>;
        let admin: ProbeAnswer[];
        try {
          [readiness, admin] = await Promise.all([
            pollReadiness(harness.processes, resumed),
            pollUntil(() => adminGet(dashboard.url, `/events/${anEvent?.kind === 'acked' ? anEvent.id : 'none'}`, ADMIN_TOKEN), 250, resumed),
          ]);
        } finally {
          clearTimeout(timer);
          harness.redis.signal('SIGCONT');
        }
        const resumedAt = Date.now();
        harness.fault('SIGSTOP', 'redis-server', `${resumedAt - stoppedAt} ms, then SIGCONT`, stoppedAt);

        // What the admin API said while Redis was frozen: the requests that had time to be answered before SIGCONT.
        const duringStop = admin.filter((answer) => answer.at + ADMIN_ANSWER_MS < resumedAt);
        const wrong = duringStop.filter((answer) => answer.status !== 503 || answer.code !== 'REDIS_UNAVAILABLE' || answer.ms > ADMIN_ANSWER_MS);
        const times = duringStop.map((answer) => answer.ms).sort((a, b) => a - b);
        notes.push(
          `while stopped: GET /events/:id answered ${duringStop.length} times: ${duringStop.filter((answer) => answer.code === 'REDIS_UNAVAILABLE').length} × 503 REDIS_UNAVAILABLE, ` +
            `in ${times[0] ?? 0}-${times.at(-1) ?? 0} ms (median ${times[Math.floor(times.length / 2)] ?? 0} ms)`,
        );
        if (duringStop.length === 0) violations.push('the admin API was not asked while Redis was stopped');
        if (wrong.length > 0) violations.push(`the admin API did not answer 503 REDIS_UNAVAILABLE within ${ADMIN_ANSWER_MS} ms while Redis was stopped: ${wrong.slice(0, 3).map((answer) => `${answer.status} ${answer.code ?? ''} after ${answer.ms} ms`).join('; ')}`);
        for (const [process, answers] of readiness) {
          notes.push(`while stopped: ${readinessSummary(process.name, answers)}`);
          if (!answers.some((answer) => answer.status !== 200)) violations.push(`${process.name}: /readyz never said not ready while Redis was stopped`);
        }
        const afterwards = await waitUntil(async () => (await adminGet(dashboard.url, `/events/${anEvent?.kind === 'acked' ? anEvent.id : 'none'}`, ADMIN_TOKEN)).status === 200, 10_000, 250);
        if (!afterwards) violations.push('the admin API did not answer 200 within 10 s of SIGCONT');

        return {
          violations,
          notes,
          async after(_h, settled) {
            // Answers to requests sent while Redis was frozen and answered before it resumed: nothing it said can be "not stored".
            const frozen = settled.answers.filter((answer) => answer.sentAt >= stoppedAt && answer.answeredAt <= resumedAt);
            const lies = frozen.filter((answer) => NOT_STORED_CODES.has(answer.code));
            const timeouts = frozen.filter((answer) => answer.code === 'REDIS_TIMEOUT').length;
            const replayed = [...settled.outcomes.values()].filter((outcome) => outcome.kind === 'acked' && outcome.replayed).length;
            const afterViolations: string[] = [];
            if (timeouts === 0) afterViolations.push('no request was answered REDIS_TIMEOUT while Redis was stopped');
            if (lies.length > 0) afterViolations.push(`${lies.length} requests were answered "not stored" (${[...new Set(lies.map((answer) => answer.code))].join(', ')}) while Redis was stopped; every write sent then runs at SIGCONT`);
            return {
              violations: afterViolations,
              examples: lies.slice(0, 5).map((answer) => `seq=${answer.seq} ${answer.code} after ${answer.answeredAt - answer.sentAt} ms: ${answer.message ?? ''}`),
              notes: [
                `ingress answers to requests sent and answered while stopped: ${formatCounts(answersByCode(frozen))}`,
                `requests in doubt sent again with their webhook-id: ${replayed} answered 200 with the first event's id, ${[...settled.outcomes.values()].filter((outcome) => outcome.kind === 'indeterminate').length} still in doubt at the end`,
              ],
            };
          },
        };
      },
    ),
};

export const SCENARIOS: readonly Scenario[] = [dispatcherKill, workerKill, ingressKill, redisKill, redisPause, poison, sigterm, groupLost, rollout, redisOom, redisStop];
