import { createKeys } from '@fanout/redis';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { writeBenchFlow } from '../flows.js';
import { closedLoop, eventBody, type ClosedLoopResult } from '../load.js';
import { cleanRedis } from '../redis-tools.js';
import { startService } from '../service.js';

export interface IngestResults {
  readonly fanout: ClosedLoopResult;
  readonly express: ClosedLoopResult;
  readonly http: ClosedLoopResult;
}

export const INGEST_CONNECTIONS = 50;
const BODY_BYTES = 1024;

/** POST 1 KB JSON with 50 connections: the ingress alone, then the two baselines, on the same Redis. */
export async function runIngest(ctx: BenchContext): Promise<IngestResults> {
  const body = eventBody(BODY_BYTES);
  const load = (url: string): Promise<ClosedLoopResult> => closedLoop(url, body, INGEST_CONNECTIONS, ctx.warmupMs, ctx.durationMs);

  const flowsPath = await writeBenchFlow(ctx.flowsDir, ctx.sink.url, { name: 'ingest', destinations: 2 });
  const prefix = ctx.newPrefix('ingest');
  const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['ingress'], redisUrl: ctx.redisUrl, flowsPath, prefix, ...profile(ctx, 'ingest-ingress') });
  ctx.log('ingest: fanout ingress');
  const cpuAtStart = service.cpuMs();
  const fanout = await load(`${service.url}/webhooks/ingest`);
  fanout.cpuUsPerRequest = ((service.cpuMs() - cpuAtStart) * 1000) / fanout.total;
  await service.stop();
  recordUnits(ctx, 'ingest-ingress', fanout.total, 'request');
  await cleanRedis(ctx.redis, prefix);

  const baseline = async (name: 'ingest-express' | 'ingest-http'): Promise<ClosedLoopResult> => {
    const basePrefix = ctx.newPrefix(name);
    const child = startBaseline(ctx, name, { redisUrl: ctx.redisUrl, streamKey: createKeys(basePrefix).partitions[0]!.stream }, name);
    const { port } = (await child.ready) as { port: number };
    ctx.log(`ingest: ${name}`);
    const cpuAtStart = child.cpuMs();
    const result = await load(`http://127.0.0.1:${port}/webhooks/ingest`);
    result.cpuUsPerRequest = ((child.cpuMs() - cpuAtStart) * 1000) / result.total;
    await child.stop();
    recordUnits(ctx, name, result.total, 'request');
    await cleanRedis(ctx.redis, basePrefix);
    return result;
  };
  const express = await baseline('ingest-express');
  const http = await baseline('ingest-http');
  return { fanout, express, http };
}

export function profile(ctx: BenchContext, name: string): { cpuProfDir?: string; profileName?: string } {
  return ctx.cpuProfDir ? { cpuProfDir: ctx.cpuProfDir, profileName: name } : {};
}
