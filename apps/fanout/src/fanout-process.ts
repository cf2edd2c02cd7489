import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { FanoutError, maskUrl } from '@fanout/core';
import { buildDashboard } from '@fanout/dashboard';
import { DELIVERY_SCRIPTS, deliveryState, DESTINATION_STATES, destinationHealth, startReplayer } from '@fanout/delivery';
import { createDestinationRegistry, createNetworkGuard, defaultKinds } from '@fanout/destinations';
import { flowPlans, startDispatcher } from '@fanout/dispatcher';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { flowFilesFingerprint, loadFlows, publishFlowPlans, watchFlowFiles, type Flow } from '@fanout/flows';
import { createHttpServer } from '@fanout/http';
import { buildIngress } from '@fanout/ingress';
import { createMetrics, type Logger } from '@fanout/observability';
import { createDeliveryQueues } from '@fanout/queues';
import { createKeys, createRedisConnection, watchRedis, type ScriptSet } from '@fanout/redis';
import { settlesWithin, startWorkers, type DeliveryWorkers } from '@fanout/worker';
import express, { type Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { createFlowReload, type ReloadOutcome } from './flow-reload.js';
import { buildHttpApp } from './http-app.js';
import { NON_ADMIN_ROUTES } from './process-routes.js';
import { checkRedis } from './redis-checks.js';
import { resolveRedisEndpoint } from './redis-endpoint.js';

/** A running fanout process: its roles, its HTTP server, its Redis connections. */
export interface FanoutProcess {
  readonly port: number;
  /** The flows in force (a reload changes them). */
  readonly flows: readonly Flow[];
  /** Reads the flow files again and puts them in force if they load (what SIGHUP does). */
  reloadFlows(trigger: string): Promise<ReloadOutcome>;
  /** The Redis it uses (REDIS_URL, 127.0.0.1:6379 or a private redis-server). */
  readonly redisUrl: string;
  /** Stops taking webhooks (503), finishes in-flight deliveries within the grace period, closes everything. */
  shutdown(): Promise<void>;
}

export interface FanoutProcessOptions {
  config: Config;
  logger: Logger;
  /** Where `${env:…}` in flows is read from. */
  env: NodeJS.ProcessEnv;
  /** Where a private redis-server keeps its data. Default ./.data */
  dataDir?: string;
}

/** One step of a shutdown, named for the log line when it overruns or fails. */
interface ShutdownStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/** How long shutdown waits for each closing step (queues, HTTP server, a private redis-server), in ms: they hang when Redis is gone. */
const CLOSE_TIMEOUT_MS = 1_000;
/** How often a process publishes its flows' dispatch plans again, in ms, so they outlive it by the event retention. */
const FLOW_PLAN_REPUBLISH_MS = 10 * 60_000;
/** How long past the grace period the roles may take to stop, in ms: workers hand cut-short jobs back (HANDBACK_MS). */
const STOP_MARGIN_MS = 2_000;

/** Runs a shutdown step for at most `ms`; one that overruns is left behind and one that fails is logged, so the next step always runs. */
async function runBounded(step: ShutdownStep, ms: number, logger: Logger): Promise<void> {
  const running = step.run().catch((error: unknown) => logger.warn({ err: error, step: step.name }, 'shutdown step failed'));
  if (!(await settlesWithin(running, ms))) logger.warn({ step: step.name, waitedMs: ms }, 'shutdown step did not finish in time; moving on');
}

async function connect(redis: Redis, url: string): Promise<Redis> {
  // ioredis reports why a connect failed only as an 'error' event; the rejection says just "Connection is closed".
  let reason: Error | undefined;
  const remember = (error: Error): void => void (reason = error);
  redis.on('error', remember);
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${maskUrl(url)}: ${(reason ?? (error as Error)).message}`, { cause: error });
  } finally {
    redis.off('error', remember);
  }
}

/**
 * A body of a flow's maxBodyBytes, sent encoded, holds that much twice (encoded and decoded):
 * a cap below that would refuse such a request even on an idle process.
 */
function checkBufferCap(flows: readonly Flow[], capBytes: number): void {
  const largest = flows.reduce<Flow | undefined>((top, flow) => (top && top.source.maxBodyBytes >= flow.source.maxBodyBytes ? top : flow), undefined);
  if (largest && 2 * largest.source.maxBodyBytes > capBytes) {
    throw new FanoutError(
      'CONFIG_INVALID',
      `FANOUT_INGRESS_MAX_BUFFERED: ${capBytes} bytes cannot hold one encoded body of flow "${largest.name}" (maxBodyBytes ${largest.source.maxBodyBytes}, held encoded and decoded: ${2 * largest.source.maxBodyBytes} bytes)`,
    );
  }
}

/**
 * Not ready from the share of maxmemory at which the ingress refuses new events, not only at
 * 100 %: Redis at its maxmemory hovers around it (writes take memory, the trim frees some), so
 * a check at 100 % said ready in most polls while Redis refused most writes.
 */
function memoryReadiness(share: number | undefined, limit: number): string {
  if (share === undefined || share < limit) return 'ok';
  return `Redis uses ${Math.round(share * 100)}% of its maxmemory (new events are refused from ${Math.round(limit * 100)}%, FANOUT_INGEST_MEMORY_LIMIT)`;
}

/** A port someone else holds is the likeliest start-up failure of split roles on one host: say so in one line. */
function listenError(error: unknown, port: number): unknown {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return error;
  return new FanoutError('PORT_IN_USE', `port ${port} is already in use (another fanout process, or something else, listens there): set PORT to a free port`, { cause: error });
}

export async function startFanoutProcess({ config, logger, env, dataDir = './.data' }: FanoutProcessOptions): Promise<FanoutProcess> {
  const roles = new Set(config.FANOUT_ROLES);
  // Taken before loading, so that a change made while the files load is seen by the watch.
  const loadedFingerprint = await flowFilesFingerprint(config.FANOUT_FLOWS);
  let flows = await loadFlows(config.FANOUT_FLOWS, env);
  if (roles.has('ingress')) checkBufferCap(flows, config.FANOUT_INGRESS_MAX_BUFFERED);
  // The flows in force: every role looks a flow up here at each use, so a reload is one swap.
  let flowsByName = new Map(flows.map((flow) => [flow.name, flow]));
  const findFlow = (name: string): Flow | undefined => flowsByName.get(name);
  const endpoint = await resolveRedisEndpoint(config.REDIS_URL, dataDir, logger);
  const keys = createKeys(config.FANOUT_REDIS_PREFIX);
  const metrics = createMetrics();

  // Run in order, each bounded: without Redis, BullMQ's close() and quit() never return.
  const closers: ShutdownStep[] = [{ name: 'redis-server', run: endpoint.release }];
  const closeAll = async (): Promise<void> => {
    for (const closer of closers) await runBounded(closer, CLOSE_TIMEOUT_MS, logger);
  };
  const openConnection = async (purpose: 'request' | 'background', name: string, scripts: readonly ScriptSet[], autoPipelining = false): Promise<Redis> => {
    const redis = await connect(createRedisConnection(endpoint.url, { purpose, name: `fanout-${name}`, scripts, autoPipelining }), endpoint.url);
    redis.on('error', (error: Error) => logger.warn({ err: error.message, connection: name }, 'redis connection error'));
    // disconnect(), not quit(): quit waits for an answer Redis may never give.
    closers.unshift({ name: `${name} connection`, run: async () => redis.disconnect() });
    return redis;
  };

  const requests = await openConnection('request', 'requests', [EVENT_LOG_SCRIPTS]);
  await checkRedis(requests, logger).catch(async (error: unknown) => {
    await closeAll();
    throw error;
  });
  const health = watchRedis(requests);
  closers.unshift({ name: 'redis health probe', run: async () => health.stop() });
  // BullMQ's queues, and the dispatcher's records on the same connection: Redis runs a batch's
  // records script before its jobs. The dashboard reads and replays on it too.
  const background = await openConnection('background', 'background', [EVENT_LOG_SCRIPTS, DELIVERY_SCRIPTS]);
  const queues = createDeliveryQueues({ flows, connection: background, keys });
  const stateOn = (redis: Redis) => deliveryState({ redis, keys, attemptLogTtlMs: config.FANOUT_EVENT_RETENTION, now: Date.now });
  closers.unshift({ name: 'delivery queues', run: () => queues.close() });
  metrics.observeQueueDepth(() => queues.readDepths());
  const destinationStates = destinationHealth({ redis: background, keys, now: Date.now });
  metrics.observeDestinationStates(DESTINATION_STATES, () =>
    Promise.all(queues.destinations.map(async ({ name, flow, destination }) => ({ flow: flow.name, destination: destination.name, state: (await destinationStates.read(name)).state }))),
  );
  // Before any webhook is taken: a dispatcher of another process (of an older or newer
  // version) may dispatch what this one accepts, by the plan it publishes here.
  await publishFlowPlans(background, keys, flows, config.FANOUT_EVENT_RETENTION);
  metrics.flowInfo.reset();
  for (const flow of flows) metrics.flowInfo.set({ flow: flow.name, version: flow.version }, 1);
  const republish = setInterval(() => {
    publishFlowPlans(background, keys, flows, config.FANOUT_EVENT_RETENTION).catch((error: unknown) => logger.warn({ err: error }, 'flows.publish_failed'));
  }, FLOW_PLAN_REPUBLISH_MS);
  republish.unref();
  closers.unshift({ name: 'flow plans', run: async () => clearInterval(republish) });

  let draining = false;
  const routers: Router[] = [];
  // The roles stop side by side, each within the grace period.
  const stoppers: ShutdownStep[] = [];
  if (roles.has('ingress')) {
    routers.push(
      buildIngress({
        findFlow,
        redis: requests,
        keys,
        metrics,
        logger: logger.child({ role: 'ingress' }),
        eventRecordTtlMs: config.FANOUT_EVENT_RETENTION,
        isDraining: () => draining,
        replicas: config.FANOUT_INGEST_REPLICAS,
        replicaTimeoutMs: config.FANOUT_INGEST_REPLICA_TIMEOUT,
        memory: { share: () => health.memoryShare(), limit: config.FANOUT_INGEST_MEMORY_LIMIT },
        maxBufferedBytes: config.FANOUT_INGRESS_MAX_BUFFERED,
        bodyTimeoutMs: config.FANOUT_BODY_TIMEOUT,
      }),
    );
  }
  // Replays of dead letters run in the background of every process that replays or delivers
  // (whichever takes a replay's lease runs it); the dashboard asks for them.
  const replayer = roles.has('dashboard') || roles.has('worker') ? startReplayer({ redis: background, keys, queues, state: stateOn(background), logger: logger.child({ role: 'replayer' }), leaseMs: config.FANOUT_REPLAY_LEASE }) : undefined;
  if (replayer) stoppers.push({ name: 'replayer', run: () => replayer.stop() });
  /** Builds the dashboard of the flows in force again (GET /flows, Bull Board's queues): a reload swaps it whole. */
  let rebuildDashboard: ((flows: readonly Flow[]) => void) | undefined;
  if (roles.has('dashboard') && replayer) {
    // Queues and reads of their own on a `request` connection: while Redis is away the admin
    // API and Bull Board answer 503 within a second instead of waiting for it.
    const admin = await openConnection('request', 'admin', [EVENT_LOG_SCRIPTS, DELIVERY_SCRIPTS]);
    const adminQueues = createDeliveryQueues({ flows, connection: admin, keys });
    closers.unshift({ name: 'admin queues', run: () => adminQueues.close() });
    const build = (inForce: readonly Flow[]): Router =>
      buildDashboard({
        flows: inForce,
        queues: adminQueues,
        state: stateOn(admin),
        replays: replayer,
        redis: admin,
        keys,
        eventRecordTtlMs: config.FANOUT_EVENT_RETENTION,
        logger: logger.child({ role: 'dashboard' }),
        adminToken: config.FANOUT_ADMIN_TOKEN,
        readOnly: config.FANOUT_DASHBOARD_READONLY,
        redisReachable: () => health.reachable(),
        otherRoutes: NON_ADMIN_ROUTES,
      });
    let dashboard = build(flows);
    rebuildDashboard = (inForce) => {
      adminQueues.use(inForce);
      dashboard = build(inForce);
    };
    const current = express.Router();
    current.use((req, res, next) => dashboard(req, res, next));
    routers.push(current);
  }
  if (roles.has('dispatcher')) {
    const plans = flowPlans({ findFlow, redis: background, keys });
    for (const partition of keys.partitions) {
      // Each partition's blocking read needs a connection of its own.
      const blocking = await openConnection('background', `dispatcher-${partition.index}`, []);
      const dispatcher = startDispatcher({
        plans,
        redis: blocking,
        writer: background,
        partition,
        queues: { get: (flow, destination) => queues.queueFor(flow, destination) },
        metrics,
        logger: logger.child({ role: 'dispatcher' }),
        consumer: `${hostname()}-${process.pid}`,
        eventRecordTtlMs: config.FANOUT_EVENT_RETENTION,
        streamRetentionMs: config.FANOUT_STREAM_RETENTION,
        claimIdleMs: config.FANOUT_CLAIM_IDLE,
      });
      stoppers.push({ name: `dispatcher ${partition.index}`, run: () => dispatcher.stop() });
    }
  }
  let workers: DeliveryWorkers | undefined;
  if (roles.has('worker')) {
    // Records get a connection of their own: ioredis copies every script defined on a
    // connection (BullMQ's ~50) into each pipeline, which cost ~50 µs per delivery on the
    // shared one. Auto-pipelined: the reads and writes of the deliveries in flight go out
    // together instead of one socket write each.
    const records = await openConnection('background', 'records', [DELIVERY_SCRIPTS], true);
    const destinations = createDestinationRegistry(defaultKinds({ networkGuard: createNetworkGuard({ deny: config.FANOUT_DESTINATION_DENY, allow: config.FANOUT_DESTINATION_ALLOW }) }));
    const started = startWorkers({
      flows,
      connection: background,
      keys,
      state: stateOn(records),
      destinations,
      metrics,
      logger: logger.child({ role: 'worker' }),
      minLockDurationMs: config.FANOUT_WORKER_LOCK,
      stalledIntervalMs: config.FANOUT_STALLED_INTERVAL,
      replays: replayer,
    });
    // The destinations' connections close only once no attempt is in flight.
    stoppers.push({ name: 'workers', run: () => started.stop(config.FANOUT_SHUTDOWN_GRACE).finally(() => destinations.close()) });
    workers = started;
  }

  /**
   * Puts reloaded flows in force, in the order that keeps the rule "an event is delivered to
   * the destinations of the flow version that accepted it": the new versions' plans are
   * published before the ingress can accept by them (a dispatcher of another process may
   * dispatch those events), and the old versions' plans are published again, so they outlive
   * the last event they accepted by the event retention. Only those steps can fail; they run
   * before anything is swapped, so a failure leaves the old flows wholly in force.
   */
  const applyFlows = async (next: readonly Flow[], previous: readonly Flow[]): Promise<void> => {
    if (roles.has('ingress')) checkBufferCap(next, config.FANOUT_INGRESS_MAX_BUFFERED);
    await publishFlowPlans(background, keys, [...previous, ...next], config.FANOUT_EVENT_RETENTION);
    flows = next;
    flowsByName = new Map(next.map((flow) => [flow.name, flow]));
    queues.use(next);
    rebuildDashboard?.(next);
    metrics.flowInfo.reset();
    for (const flow of next) metrics.flowInfo.set({ flow: flow.name, version: flow.version }, 1);
    await workers?.update(next).catch((error: unknown) => logger.warn({ err: error }, 'flows.workers_not_ready: new destination workers start once Redis answers'));
  };
  const reload = createFlowReload({ load: () => loadFlows(config.FANOUT_FLOWS, env), current: () => flows, apply: applyFlows, logger, metrics });
  closers.unshift({ name: 'flow reload', run: async () => reload.close() });
  if (config.FANOUT_FLOWS_WATCH) {
    const watch = watchFlowFiles({
      path: config.FANOUT_FLOWS,
      loaded: loadedFingerprint,
      pollMs: config.FANOUT_FLOWS_POLL,
      onChange: () => void reload.reload('files changed'),
      onWatchError: (error) => logger.warn({ err: error.message, path: config.FANOUT_FLOWS }, 'flows.watch_failed: changes are seen by the poll alone'),
    });
    closers.unshift({ name: 'flow watch', run: async () => watch.close() });
  }

  const stopRoles = () => Promise.all(stoppers.map((stopper) => runBounded(stopper, config.FANOUT_SHUTDOWN_GRACE + STOP_MARGIN_MS, logger)));
  const app = buildHttpApp({
    routers,
    metrics,
    logger,
    metricsToken: config.FANOUT_METRICS_TOKEN,
    readiness: () => ({
      redis: health.reachable() ? (health.refusesWrites() ?? 'ok') : 'Redis does not answer',
      memory: memoryReadiness(health.memoryShare(), config.FANOUT_INGEST_MEMORY_LIMIT),
      draining: draining ? 'draining after SIGTERM' : 'ok',
      flows: flowsByName.size > 0 ? 'ok' : 'no flows loaded',
    }),
  });
  if (!config.FANOUT_METRICS_TOKEN && roles.has('ingress')) logger.warn('FANOUT_METRICS_TOKEN is not set: /metrics, which names every flow and destination, is open to anyone who reaches this port');
  const server: Server = createHttpServer(app, {
    headersTimeoutMs: config.FANOUT_HEADERS_TIMEOUT,
    requestTimeoutMs: config.FANOUT_REQUEST_TIMEOUT,
    maxConnections: config.FANOUT_MAX_CONNECTIONS,
  }).listen(config.PORT);
  try {
    await once(server, 'listening');
  } catch (error) {
    await stopRoles();
    await closeAll();
    throw listenError(error, config.PORT);
  }
  const { port } = server.address() as AddressInfo;
  logger.info({ port, roles: [...roles], flows: flows.map((flow) => flow.name), redis: maskUrl(endpoint.url) }, 'fanout is running');

  return {
    port,
    get flows() {
      return flows;
    },
    reloadFlows: (trigger) => reload.reload(trigger),
    redisUrl: endpoint.url,
    async shutdown() {
      draining = true;
      // No reload while the roles stop.
      reload.close();
      logger.info({ graceMs: config.FANOUT_SHUTDOWN_GRACE }, 'shutting down: no new webhooks, finishing in-flight deliveries');
      await stopRoles();
      server.closeIdleConnections();
      // A request still waiting on Redis would hold server.close() open.
      await runBounded({ name: 'http server', run: () => new Promise<void>((resolve) => server.close(() => resolve())) }, CLOSE_TIMEOUT_MS, logger);
      server.closeAllConnections();
      await closeAll();
    },
  };
}
