import { randomUUID } from 'node:crypto';
import type { DeliveryQueue } from '@fanout/queues';
import { runScript, type FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { replayJob } from './bullmq-jobs.js';
import { decodeMatchedDelivery, matchDeadLetters } from './match-dead-letters.js';
import type { ReplayFilter } from './replay-filter.js';
import { encodeReplay, readReplay, readReplays, type ReplayCursor, type ReplayRecord } from './replay-records.js';
import { DELIVERY_SCRIPTS } from './scripts.js';
import type { DeliveryState } from './transitions.js';

const ADVANCE = DELIVERY_SCRIPTS.get('advanceReplay');
const RELEASE = DELIVERY_SCRIPTS.get('releaseReplayLease');

/** Most dead letters queued again in one batch (one round trip each, side by side). */
export const REPLAY_BATCH = 100;

/**
 * A replay queues at this share of its rate: the destination sees each delivery the queueing
 * time plus that delivery's latency, whose jitter (tens of ms) brings two close; with the
 * margin no second at the destination holds more than the rate.
 */
const REPLAY_RATE_MARGIN = 0.9;

/** How long a matched list lives while it is being written: one whose replay was never recorded (the process died) goes away by itself. */
const UNRECORDED_LIST_TTL_MS = 3_600_000;

/** A replay to start: which dead letters, how fast, why and for whom. */
export interface ReplayRequest {
  readonly flow: string;
  readonly destination: string;
  readonly filter: ReplayFilter;
  /** Deliveries queued again per second at most. Default: no cap (batches of REPLAY_BATCH, one after the other). */
  readonly ratePerSecond?: number | undefined;
  /** Why, for the audit. */
  readonly reason?: string | undefined;
  /** Who asked, for the audit: the client's address, or the part of fanout that did (`circuit-breaker`). */
  readonly requester: string;
}

/** How many dead letters a filter matched, and the ids it named that were not dead letters. */
export interface ReplayMatch {
  readonly matched: number;
  readonly notFound: string[];
}

export interface Replays {
  /** A dry run: what `start` would match now; nothing is written. */
  match(request: Pick<ReplayRequest, 'flow' | 'destination' | 'filter'>): Promise<ReplayMatch>;
  /**
   * Matches the dead letters now, records the replay (in the audit) and has it run in the
   * background, by whichever process takes its lease; answers its id. Throws a ReplayError
   * for a destination this process has no queue of (`match` too).
   */
  start(request: ReplayRequest): Promise<ReplayMatch & { readonly replay: string }>;
  get(replay: string): Promise<ReplayRecord | undefined>;
  /** The audit, newest first. */
  list(page: { readonly limit: number; readonly offset: number }): Promise<{ items: ReplayRecord[]; total: number }>;
}

/** Replays, and the runner that carries them out in this process. */
export interface Replayer extends Replays {
  /** Finishes the batches under way, releases the leases (another process resumes at once), stops. */
  stop(): Promise<void>;
}

/** What the replayer logs: pino's Logger fits. */
export interface ReplayLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface ReplayerDeps {
  /** A connection created with DELIVERY_SCRIPTS. */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  /** The destination queues; a replay of a destination this process has none of waits for a process that has. */
  readonly queues: { get(flow: string, destination: string): DeliveryQueue | undefined };
  readonly state: DeliveryState;
  readonly logger: ReplayLogger;
  /** How long a replay's lease lasts unless renewed, ms: how soon another process resumes a replay whose runner died. Default 10 000. */
  readonly leaseMs?: number;
  /** How often running replays without a runner are looked for, ms. Default 1 000. */
  readonly pollMs?: number;
  /** Unix ms. Default Date.now. */
  readonly now?: () => number;
}

/** An error of the replay engine whose message is for the operator. */
export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

/** Runs a MULTI, throwing the first error of its commands (ioredis answers them, it does not throw them). */
async function execAll(multi: ReturnType<Redis['multi']>): Promise<void> {
  for (const [error] of (await multi.exec()) ?? []) if (error) throw error;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Dead letters per batch: as many as 50 ms of the rate (at least one), so the rate holds over any second. */
function batchSize(ratePerSecond: number | undefined): number {
  if (ratePerSecond === undefined) return REPLAY_BATCH;
  return Math.max(1, Math.min(REPLAY_BATCH, Math.floor(ratePerSecond / 20)));
}

/**
 * Starts the replay runner of this process and answers the replay API. Replays are stored in
 * Redis (keys.replays): the request, the dead letters it matched (a list, fixed when asked
 * for), a cursor into them and the counts. A runner takes a replay's lease, queues its dead
 * letters again batch by batch at its rate, and records each batch's start and end with the
 * lease as fence (advanceReplay); a replay whose runner died is taken over once its lease
 * runs out and resumed at its cursor. A dead letter is replayed only while its job is still
 * the dead letter that was matched (see matchedDelivery), so a batch under way when its
 * runner died is never replayed twice.
 */
export function startReplayer(deps: ReplayerDeps): Replayer {
  const { redis, keys, queues, state, logger } = deps;
  const leaseMs = deps.leaseMs ?? 10_000;
  const now = deps.now ?? Date.now;
  const token = randomUUID();
  const keysOf = keys.replays;
  const running = new Map<string, Promise<void>>();
  let stopping = false;

  const queueOf = (flow: string, destination: string): DeliveryQueue => {
    const queue = queues.get(flow, destination);
    if (!queue) throw new ReplayError(`no destination ${destination} of flow ${flow} is loaded`);
    return queue;
  };

  async function advance(id: string, at: ReplayCursor, counts: { queued: number; skipped: number }, finished: boolean): Promise<boolean> {
    const args = [id, token, leaseMs, at.cursor, at.inflight ?? '', counts.queued, counts.skipped, at.nextAt, now(), finished ? '1' : '0'];
    return (await runScript<number>(redis, ADVANCE, [keysOf.record(id), keysOf.lease(id), keysOf.running, keysOf.matched(id), ...args])) === 1;
  }
  const renew = (id: string, at: ReplayCursor) => advance(id, at, { queued: 0, skipped: 0 }, false);

  /** Waits until `at.nextAt`, renewing the lease meanwhile; false when the lease was lost or the replayer stops. */
  async function waitForTurn(id: string, at: ReplayCursor): Promise<boolean> {
    for (let wait = at.nextAt - now(); wait > 0; wait = at.nextAt - now()) {
      if (stopping) return false;
      await sleep(Math.min(wait, leaseMs / 3));
      if (at.nextAt - now() > 0 && !(await renew(id, at))) return false;
    }
    return !stopping;
  }

  /** One matched dead letter: `queued` when it went back to waiting (or, in a batch being resumed, when it had already), else `skipped`. */
  async function replayOne(queue: DeliveryQueue, item: string, resumed: boolean): Promise<'queued' | 'skipped'> {
    const { eventId, deadLetteredAt } = decodeMatchedDelivery(item);
    const job = await queue.getJob(eventId);
    const stillThatDeadLetter = job !== undefined && (job.finishedOn ?? 0) === deadLetteredAt && (await job.isFailed());
    if (!stillThatDeadLetter) return resumed ? 'queued' : 'skipped';
    return (await replayJob(state, queue, job, 'failed')) === 'replayed' ? 'queued' : 'skipped';
  }

  async function run(id: string): Promise<void> {
    const record = await readReplay(redis, keysOf, id);
    if (!record || record.status !== 'running') return;
    const queue = queues.get(record.flow, record.destination);
    if (!queue) return;
    const size = batchSize(record.ratePerSecond);
    let at: ReplayCursor = record;
    if (at.cursor > 0 || at.inflight !== undefined) logger.info({ replay: id, cursor: at.cursor, matched: record.matched }, 'replay.resumed');
    while (at.cursor < record.matched) {
      if (!(await waitForTurn(id, at))) return;
      const startedAt = now();
      // A batch under way when the last runner stopped is done again, as it was: none of it twice (see replayOne).
      const resumedEnd = at.inflight !== undefined && at.inflight > at.cursor ? at.inflight : undefined;
      const resumed = resumedEnd !== undefined;
      const end = resumedEnd ?? Math.min(at.cursor + size, record.matched);
      if (!resumed && !(await advance(id, { ...at, inflight: end }, { queued: 0, skipped: 0 }, false))) return;
      const items = await redis.lrange(keysOf.matched(id), at.cursor, end - 1);
      const outcomes = await Promise.all(items.map((item) => replayOne(queue, item, resumed)));
      const queued = outcomes.filter((outcome) => outcome === 'queued').length;
      const nextAt = record.ratePerSecond === undefined ? 0 : startedAt + ((end - at.cursor) * 1_000) / (record.ratePerSecond * REPLAY_RATE_MARGIN);
      at = { cursor: end, nextAt };
      if (!(await advance(id, at, { queued, skipped: outcomes.length - queued }, end >= record.matched))) return;
    }
    const done = await readReplay(redis, keysOf, id);
    logger.info({ replay: id, flow: record.flow, destination: record.destination, matched: record.matched, queued: done?.queued, skipped: done?.skipped }, 'replay.finished');
  }

  /** Runs a replay in the background once its lease is ours; a failure leaves it for the next look (here or in another process). */
  function runLeased(id: string): void {
    const task = run(id)
      .catch((error: unknown) => logger.warn({ replay: id, err: error }, 'replay.failed'))
      .finally(async () => {
        running.delete(id);
        await runScript(redis, RELEASE, [keysOf.lease(id), token]).catch(() => undefined);
      });
    running.set(id, task);
  }

  /** Takes the lease of every running replay nobody runs. */
  async function takeOver(): Promise<void> {
    if (stopping) return;
    for (const id of await redis.smembers(keysOf.running)) {
      if (stopping || running.has(id)) continue;
      if ((await redis.set(keysOf.lease(id), token, 'PX', leaseMs, 'NX')) === 'OK') runLeased(id);
    }
  }
  const look = () => void takeOver().catch((error: unknown) => logger.warn({ err: error }, 'replay.look_failed'));
  const poll = setInterval(look, deps.pollMs ?? 1_000);
  poll.unref();
  look();

  return {
    async match({ flow, destination, filter }) {
      const { deliveries, notFound } = await matchDeadLetters(queueOf(flow, destination), filter);
      return { matched: deliveries.length, notFound };
    },
    async start(request) {
      const { deliveries, notFound } = await matchDeadLetters(queueOf(request.flow, request.destination), request.filter);
      const id = randomUUID();
      const requestedAt = now();
      for (let start = 0; start < deliveries.length; start += 1_000) {
        await execAll(redis.multi().rpush(keysOf.matched(id), ...deliveries.slice(start, start + 1_000)).pexpire(keysOf.matched(id), UNRECORDED_LIST_TTL_MS));
      }
      const finished = deliveries.length === 0;
      const record: ReplayRecord = {
        id,
        flow: request.flow,
        destination: request.destination,
        filter: request.filter,
        ...(request.ratePerSecond === undefined ? {} : { ratePerSecond: request.ratePerSecond }),
        ...(request.reason === undefined ? {} : { reason: request.reason }),
        requester: request.requester,
        requestedAt,
        status: finished ? 'finished' : 'running',
        matched: deliveries.length,
        queued: 0,
        skipped: 0,
        ...(finished ? { finishedAt: requestedAt } : {}),
      };
      const write = redis.multi().hset(keysOf.record(id), encodeReplay(record)).zadd(keysOf.audit, requestedAt, id);
      if (!finished) write.persist(keysOf.matched(id)).sadd(keysOf.running, id);
      await execAll(write);
      logger.info({ replay: id, flow: request.flow, destination: request.destination, matched: deliveries.length, filter: request.filter, ratePerSecond: request.ratePerSecond, reason: request.reason, requester: request.requester }, 'replay.started');
      if (!finished) look();
      return { replay: id, matched: deliveries.length, notFound };
    },
    get: (replay) => readReplay(redis, keysOf, replay),
    list: (page) => readReplays(redis, keysOf, page),
    async stop() {
      stopping = true;
      clearInterval(poll);
      await Promise.all(running.values());
    },
  };
}
