import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchContext } from '../context.js';
import { destinationName, destinationPath, writeBenchFlow } from '../flows.js';
import { openLoop } from '../load.js';
import { rssOf } from '../processes.js';
import { cleanRedis, usedMemoryRss } from '../redis-tools.js';
import { startService, type ServiceProcess } from '../service.js';
import { readLatencyStages, type LatencyStages, type TimedDelivery } from '../latency-stages.js';
import { summarizeLatencies, type LatencySummary } from '../stats.js';
import { profile } from './ingest.js';

export interface LatencyRun {
  readonly label: string;
  /** Events per second asked for. */
  readonly rate: number;
  /** Events per second actually sent. */
  readonly sentPerSecond: number;
  /** Ingest → first byte at the sink, ms, over every healthy destination's first attempt. */
  readonly latency: LatencySummary;
  /** Deliveries expected at healthy destinations that had not arrived when the run gave up waiting. */
  readonly missing: number;
  /** Requests the ingress did not answer 202. */
  readonly refused: number;
  /** The same latencies split by stage. */
  readonly stages: LatencyStages;
}

export interface RssReading {
  readonly process: string;
  readonly bytes: number;
}

export interface LatencyOptions {
  readonly label: string;
  readonly rate: number;
  /** Adds a destination that never answers (timeout 10 s). */
  readonly dead?: boolean;
  /** Reads every process's RSS near the end of the run. */
  readonly sampleRss?: boolean;
}

const HEALTHY_DESTINATIONS = 2;
const BODY_BYTES = 1024;

/**
 * One open-loop run through the whole pipeline, the roles as separate processes (as the
 * compose file runs them): events POSTed at `rate`, latency from the send to the first byte
 * of each healthy destination's delivery at the sink, both read from this process's clock.
 */
export async function runLatency(ctx: BenchContext, options: LatencyOptions): Promise<LatencyRun & { rss?: RssReading[] }> {
  const name = options.dead ? 'isolation' : 'latency';
  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name, destinations: HEALTHY_DESTINATIONS, dead: options.dead ?? false });
  const prefix = ctx.newPrefix(name);
  const common = { node: ctx.node.path, mainScript: ctx.mainScript, redisUrl: ctx.redisUrl, flowsPath, prefix };
  const tag = options.label.replace(/[^a-z0-9]+/gi, '-');
  const processes: ServiceProcess[] = await Promise.all([
    startService({ ...common, roles: ['ingress'], ...profile(ctx, `latency-${tag}-ingress`) }),
    startService({ ...common, roles: ['dispatcher'], ...profile(ctx, `latency-${tag}-dispatcher`) }),
    startService({ ...common, roles: ['worker'], ...profile(ctx, `latency-${tag}-worker`) }),
  ]);
  ctx.debug('latency: roles ready');
  const [ingress] = processes;
  const paths = Array.from({ length: HEALTHY_DESTINATIONS }, (_, i) => destinationPath(name, destinationName(i)));
  ctx.sink.reset();
  ctx.sink.recordArrivals(true);

  let rss: RssReading[] | undefined;
  const rssTimer = options.sampleRss
    ? setTimeout(
        () =>
          void usedMemoryRss(ctx.redis).then((redisRss) => {
            rss = [...processes.map((p) => ({ process: p.name, bytes: p.rss() })), { process: 'redis-server', bytes: redisRss }, { process: 'bench (load + sink)', bytes: rssOf(process.pid) }];
          }),
        ctx.warmupMs + ctx.durationMs * 0.8,
      )
    : undefined;
  const sent = await openLoop(`${ingress!.url}/webhooks/${name}`, options.rate, ctx.warmupMs + ctx.durationMs, BODY_BYTES);
  clearTimeout(rssTimer);
  ctx.debug(`latency: sent ${sent.sentAt.size}`);

  // Wait for the deliveries still on their way: at most a few seconds past the run.
  const expected = sent.sentAt.size * HEALTHY_DESTINATIONS;
  const drainUntil = Date.now() + (ctx.quick ? 2_000 : 8_000);
  while (paths.reduce((sum, path) => sum + ctx.sink.count(path), 0) < expected && Date.now() < drainUntil) await sleep(50);

  ctx.debug('latency: drained');
  const measuredFrom = Math.min(...sent.sentAt.values()) + ctx.warmupMs;
  const latencies: number[] = [];
  const timed: TimedDelivery[] = [];
  let missing = 0;
  for (const [i, path] of paths.entries()) {
    const firstArrival = new Map<string, number>();
    for (const { webhookId, at } of ctx.sink.arrivals(path)) if (!firstArrival.has(webhookId)) firstArrival.set(webhookId, at);
    for (const [id, at] of sent.sentAt) {
      if (at < measuredFrom) continue;
      const arrived = firstArrival.get(id);
      if (arrived === undefined) missing++;
      else {
        latencies.push(arrived - at);
        timed.push({ eventId: id, flow: name, destination: destinationName(i), sentAt: at, arrivedAt: arrived });
      }
    }
  }
  const stages = await readLatencyStages(ctx.redis, prefix, timed);
  ctx.sink.recordArrivals(false);
  await Promise.all(processes.map((p) => p.stop()));
  ctx.debug('latency: roles stopped');
  ctx.sink.reset();
  await cleanRedis(ctx.redis, prefix);
  ctx.debug('latency: redis clean');
  return {
    label: options.label,
    rate: options.rate,
    sentPerSecond: sent.achievedPerSecond,
    latency: summarizeLatencies(latencies),
    missing,
    refused: sent.refused,
    stages,
    ...(rss ? { rss } : {}),
  };
}
