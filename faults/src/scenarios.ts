import { hostname } from 'node:os';
import { readDeliveryRecord } from '@fanout/delivery';
import { encodeEventEntry } from '@fanout/event-log';
import { createKeys, DISPATCHER_GROUP } from '@fanout/redis';
import type { DestinationSpec } from './flow-file.js';
import { startHarness, type DestinationObserver, type Harness, type ScenarioReport, type Topology } from './harness.js';
import type { Load } from './load-generator.js';
import { createRandom, type Random } from './prng.js';
import type { Answer } from './recording-receiver.js';
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
const ANSWER_WINDOW_MS = 2_000;
/** Events whose seq is a multiple of this are of type `u`; d3 only takes type `t`. */
const OTHER_TYPE_EVERY = 4;
const typeOf = (seq: number): string => (seq % OTHER_TYPE_EVERY === 0 ? 'u' : 't');

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
  /** How the receiver answers; default 200 after `receiverDelayMs`. */
  readonly answer?: (random: Random) => (attempt: { destination: string; seq: number | undefined }) => Answer;
  readonly receiverDelayMs?: number;
  /** Requests in flight from the load generator. */
  readonly loadConcurrency?: number;
  /** What the destinations that are not the recording receiver hold. */
  readonly observer?: DestinationObserver;
}

export interface Injected {
  readonly violations?: string[];
  readonly examples?: string[];
  readonly poison?: ReadonlyMap<string, ReadonlySet<number>>;
  /** Checks run after the run settled. */
  readonly after?: (harness: Harness, load: Load) => Promise<{ violations: string[]; examples: string[] }>;
}

export async function runScenario(
  name: string,
  config: ScenarioConfig,
  setup: Setup,
  inject: (harness: Harness, load: Load, random: Random, loadMs: number) => Promise<Injected>,
): Promise<ScenarioReport> {
  const random = createRandom(config.seed).fork(name);
  const dests = setup.destinations ?? destinations(config);
  const harness = await startHarness({
    scenario: name,
    seed: config.seed,
    destinations: dests,
    topology: setup.topology ?? { ingress: 1, dispatcher: 2, worker: 2 },
    shutdownGraceMs: setup.shutdownGraceMs ?? 3_000,
    productEnv: RECOVERY[config.recovery].env,
    ...(config.workRoot ? { workRoot: config.workRoot } : {}),
    ...(config.log ? { log: config.log } : {}),
    ...(setup.observer ? { observer: setup.observer } : {}),
  });
  let report: ScenarioReport | undefined;
  try {
    const delayMs = setup.receiverDelayMs ?? 20;
    const answer = setup.answer?.(random.fork('answers'));
    harness.receiver.answerWith(answer ?? (() => ({ status: 200, delayMs })));
    const loadMs = (config.events * 1_000) / config.ratePerSecond;
    const load = harness.startLoad({ count: config.events, ratePerSecond: config.ratePerSecond, concurrency: setup.loadConcurrency ?? 16, timeoutMs: 5_000, retryRefusedMs: 5_000, typeOf });
    const injected = await inject(harness, load, random.fork('faults'), loadMs);
    const quiescence = await harness.settle(load, config.settleDeadlineMs, injected.poison);
    const after = injected.after ? await injected.after(harness, load) : { violations: [], examples: [] };
    report = await harness.report(load, quiescence, {
      ...(injected.poison ? { poison: injected.poison } : {}),
      violations: [...(injected.violations ?? []), ...after.violations],
      examples: [...(injected.examples ?? []), ...after.examples],
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

export const dispatcherKill: Scenario = {
  name: 'dispatcher-kill',
  summary: 'SIGKILL a dispatcher mid-batch (it holds read, unacknowledged entries), restart it; the other claims its entries after claimIdleMs. lost 0, unexpected 0, duplicated 0.',
  run: (config) =>
    runScenario('dispatcher-kill', config, {}, async (harness, _load, random, loadMs) => {
      await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
        const target = random.pick(harness.dispatchers);
        const midBatch = await waitUntilMidBatch(harness, target);
        await target.signal('SIGKILL');
        harness.fault('SIGKILL', target.name, midBatch ? 'mid-batch: it held pending entries' : 'no pending entries seen within 2 s');
        await sleep(random.int(0, 500));
        await target.start();
      });
      return {};
    }),
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

export const redisKill: Scenario = {
  name: 'redis-kill',
  summary: 'SIGKILL redis-server (AOF, appendfsync always) under load, restart it from its AOF after 0.2-1 s. lost 0, unexpected 0; only attempts in flight while it was down may repeat.',
  run: (config) =>
    runScenario('redis-kill', config, { receiverDelayMs: 50 }, async (harness, _load, random, loadMs) => {
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
    }),
};

export const redisPause: Scenario = {
  name: 'redis-pause',
  summary: 'CLIENT PAUSE ALL for longer than the workers\' lock under load: locks expire, jobs are taken again. lost 0, unexpected 0; only attempts in flight during the pause may repeat.',
  run: (config) =>
    runScenario('redis-pause', config, { receiverDelayMs: 150 }, async (harness, _load, random, loadMs) => {
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
    }),
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
      await atTimes(Date.now(), faultTimes(random, Math.max(config.faults, entries.length), loadMs), async (index) => {
        const [label, fields] = entries[index % entries.length]!;
        await harness.redis.observer.xadd(stream, '*', ...fields);
        harness.fault('XADD', 'event stream', label);
      });
      return {
        poison: poisonSeqs,
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

export const SCENARIOS: readonly Scenario[] = [dispatcherKill, workerKill, ingressKill, redisKill, redisPause, poison, sigterm];
