import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { buildDashboard } from '@fanout/dashboard';
import { createHttpSender } from '@fanout/destinations';
import { startDispatcher } from '@fanout/dispatcher';
import { loadFlows, type Flow } from '@fanout/flows';
import { buildIngress } from '@fanout/ingress';
import { createMetrics, type Logger } from '@fanout/observability';
import { createDeliveryQueues } from '@fanout/queues';
import { createKeys, createRedisConnection } from '@fanout/redis';
import { startWorkers } from '@fanout/worker';
import type { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Config } from './config.js';
import { buildHttpApp } from './http-app.js';
import { checkRedis } from './redis-checks.js';
import { resolveRedisEndpoint } from './redis-endpoint.js';

/** A running fanout process: its roles, its HTTP server, its Redis connections. */
export interface FanoutProcess {
  readonly port: number;
  readonly flows: readonly Flow[];
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
    throw new Error(`cannot reach Redis at ${url}: ${(reason ?? (error as Error)).message}`, { cause: error });
  } finally {
    redis.off('error', remember);
  }
}

export async function startFanoutProcess({ config, logger, env, dataDir = './.data' }: FanoutProcessOptions): Promise<FanoutProcess> {
  const roles = new Set(config.FANOUT_ROLES);
  const flows = await loadFlows(config.FANOUT_FLOWS, env);
  const flowsByName = new Map(flows.map((flow) => [flow.name, flow]));
  const findFlow = (name: string): Flow | undefined => flowsByName.get(name);
  const endpoint = await resolveRedisEndpoint(config.REDIS_URL, dataDir, logger);
  const keys = createKeys(config.FANOUT_REDIS_PREFIX);
  const metrics = createMetrics();

  const closers: (() => Promise<unknown>)[] = [endpoint.release];
  const openConnection = async (purpose: 'request' | 'background', name: string): Promise<Redis> => {
    const redis = await connect(createRedisConnection(endpoint.url, { purpose, name: `fanout-${name}` }), endpoint.url);
    redis.on('error', (error: Error) => logger.warn({ err: error.message, connection: name }, 'redis connection error'));
    closers.unshift(async () => redis.disconnect());
    return redis;
  };

  const requests = await openConnection('request', 'requests');
  await checkRedis(requests, logger).catch(async (error: unknown) => {
    for (const close of closers) await close();
    throw error;
  });
  const background = await openConnection('background', 'background');
  const queues = createDeliveryQueues({ flows, connection: background, keys });
  closers.unshift(() => queues.close());
  metrics.observeQueueDepth(() => queues.readDepths());

  let draining = false;
  const routers: Router[] = [];
  const stoppers: (() => Promise<void>)[] = [];
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
      }),
    );
  }
  if (roles.has('dashboard')) {
    routers.push(buildDashboard({ flows, queues, redis: background, keys, logger: logger.child({ role: 'dashboard' }), adminToken: config.FANOUT_ADMIN_TOKEN }));
  }
  if (roles.has('dispatcher')) {
    const blocking = await openConnection('background', 'dispatcher');
    const dispatcher = startDispatcher({ findFlow, redis: blocking, writer: background, keys, queues, metrics, logger: logger.child({ role: 'dispatcher' }), consumer: `${hostname()}-${process.pid}` });
    stoppers.push(() => dispatcher.stop());
  }
  if (roles.has('worker')) {
    const sender = createHttpSender();
    const workers = startWorkers({ flows, connection: background, redis: background, keys, sender, metrics, logger: logger.child({ role: 'worker' }), recordTtlMs: config.FANOUT_EVENT_RETENTION });
    stoppers.push(() => workers.stop(config.FANOUT_SHUTDOWN_GRACE), async () => sender.close());
  }

  const app = buildHttpApp({ routers, metrics, logger, isReady: async () => (await requests.ping().then(() => true, () => false)) && flows.length > 0 });
  const server: Server = app.listen(config.PORT);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  logger.info({ port, roles: [...roles], flows: flows.map((flow) => flow.name), redis: endpoint.url }, 'fanout is running');

  return {
    port,
    flows,
    redisUrl: endpoint.url,
    async shutdown() {
      draining = true;
      logger.info({ graceMs: config.FANOUT_SHUTDOWN_GRACE }, 'shutting down: no new webhooks, finishing in-flight deliveries');
      for (const stop of stoppers) await stop();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const close of closers) await close();
    },
  };
}
