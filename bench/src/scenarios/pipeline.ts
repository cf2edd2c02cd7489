import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { destinationName, destinationPath, writeBenchFlow } from '../flows.js';
import { postEvents } from '../load.js';
import { machineCpuMs } from '../machine-cpu.js';
import type { BenchProcess } from '../processes.js';
import { cleanRedis } from '../redis-tools.js';
import { startService } from '../service.js';
import { INGEST_CONNECTIONS, profile } from './ingest.js';

/** One pipeline taking a batch of events and delivering them at once. */
export interface PipelineRun {
  /** Events delivered to every destination per second: the batch over the time from its first POST to its last delivery. */
  readonly perSecond: number;
  /** Seconds from the first POST until every POST was answered. */
  readonly ingestSeconds: number;
  /** Seconds from the first POST until the last delivery. */
  readonly seconds: number;
  /** CPU µs per event over the batch: the process under test, redis-server, and the bench (the load generator and the sink). */
  readonly cpuUsPerEvent: { readonly process: number; readonly redis: number; readonly bench: number };
}

export interface PipelineResults {
  readonly events: number;
  readonly connections: number;
  readonly destinations: number;
  /** `fanout start` with every role in one process. */
  readonly fanout: PipelineRun;
  /** The bare pipeline (bench/src/baselines/bare-pipeline.ts). */
  readonly bare: PipelineRun;
}

const DESTINATIONS = 2;
const BODY_BYTES = 1024;
/** Entries per XREADGROUP, the dispatcher's default. */
const BATCH_SIZE = 100;
/** What the bench's flows give each destination, so the bare workers take as many jobs at once. */
const CONCURRENCY = 100;

/**
 * The figure users feel most: `fanout start` with every role in one process (as `npm start`
 * runs it) taking a batch of 1 KB events from 50 connections and delivering each to 2
 * destinations at the sink, ingest and delivery at once, against the bare pipeline doing the
 * same with the same parts, the same Redis, sink, bodies and number of events. Each takes a
 * warm-up batch first, which is not counted.
 */
export async function runPipeline(ctx: BenchContext): Promise<PipelineResults> {
  const events = ctx.quick ? 2_000 : 10_000;
  const warmup = ctx.quick ? 500 : 2_000;
  const destinations = Array.from({ length: DESTINATIONS }, (_, i) => destinationName(i));

  ctx.log('pipeline: bare pipeline');
  const bareName = 'pipeline-bare';
  const basePrefix = ctx.newPrefix(bareName);
  const baseKeys = createKeys(basePrefix);
  const bareChild = startBaseline(ctx, 'bare-pipeline', {
    redisUrl: ctx.redisUrl,
    streamKey: baseKeys.partitions[0]!.stream,
    bullPrefix: baseKeys.bullPrefix,
    destinations: destinations.map((destination) => ({ queue: deliveryQueueName(bareName, destination), url: `${ctx.sink.url}${destinationPath(bareName, destination)}` })),
    concurrency: CONCURRENCY,
    batchSize: BATCH_SIZE,
  }, 'pipeline-bare');
  const { port } = (await bareChild.ready) as { port: number };
  const bare = await drive(ctx, bareChild, `http://127.0.0.1:${port}/webhooks/${bareName}`, destinations.map((destination) => destinationPath(bareName, destination)), events, warmup);
  await bareChild.stop();
  recordUnits(ctx, 'pipeline-bare', events + warmup, 'event');
  await cleanRedis(ctx.redis, basePrefix);

  ctx.log('pipeline: fanout start, all roles in one process');
  const name = 'pipeline';
  const prefix = ctx.newPrefix(name);
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations: DESTINATIONS });
  const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['ingress', 'dispatcher', 'worker', 'dashboard'], redisUrl: ctx.redisUrl, flowsPath, prefix, ...profile(ctx, 'pipeline-fanout') });
  const fanout = await drive(ctx, service, `${service.url}/webhooks/${name}`, destinations.map((destination) => destinationPath(name, destination)), events, warmup);
  await service.stop();
  recordUnits(ctx, 'pipeline-fanout', events + warmup, 'event');
  await cleanRedis(ctx.redis, prefix);

  return { events, connections: INGEST_CONNECTIONS, destinations: DESTINATIONS, fanout, bare };
}

/** Posts a warm-up batch and waits for its deliveries, then measures one batch of `events` from its first POST to its last delivery. */
async function drive(ctx: BenchContext, target: Pick<BenchProcess, 'name' | 'cpuMs'>, url: string, paths: readonly string[], events: number, warmup: number): Promise<PipelineRun> {
  let refused: unknown;
  const delivered = async (count: number): Promise<void> => {
    const until = Date.now() + 120_000;
    while (paths.some((path) => ctx.sink.count(path) < count)) {
      if (refused) throw refused;
      if (Date.now() > until) throw new Error(`pipeline: ${target.name} had not delivered ${count} events to each destination within 120 s`);
      await sleep(5);
    }
  };
  ctx.sink.reset();
  await postEvents(url, warmup, BODY_BYTES, INGEST_CONNECTIONS);
  await delivered(warmup);
  ctx.sink.reset();

  const cpuAtStart = target.cpuMs();
  const machineAtStart = await machineCpuMs(ctx.redis);
  const startedAt = performance.now();
  let ingestSeconds = Number.NaN;
  // Posting and delivering overlap: the batch is counted at the sink while it is still being posted.
  const posted = postEvents(url, events, BODY_BYTES, INGEST_CONNECTIONS).then(
    () => void (ingestSeconds = (performance.now() - startedAt) / 1000),
    (error: unknown) => void (refused = error),
  );
  await delivered(events);
  const seconds = (performance.now() - startedAt) / 1000;
  await posted;
  const cpuMs = target.cpuMs() - cpuAtStart;
  const machine = await machineCpuMs(ctx.redis, machineAtStart);
  ctx.sink.reset();
  const perEvent = (ms: number): number => (ms * 1000) / events;
  return { perSecond: events / seconds, ingestSeconds, seconds, cpuUsPerEvent: { process: perEvent(cpuMs), redis: perEvent(machine.redis), bench: perEvent(machine.bench) } };
}
