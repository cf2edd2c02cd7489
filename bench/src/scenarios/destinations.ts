import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadFlows } from '@fanout/flows';
import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { connectNats, connectRabbitMq, NATS_URL, RABBITMQ_URL, S3_SERVER_CREDENTIALS, startS3Server, uniqueName, type S3Server } from '@fanout/testkit';
import type { DestinationLoopKind, DestinationLoopOptions } from '../baselines/destination-loop.js';
import { recordUnits, startBaseline, type BenchContext } from '../context.js';
import { eventBody } from '../load.js';
import { meterRate } from '../meter.js';
import { addDeliveryJobs, appendEvents, cleanRedis, recordDeliveries } from '../redis-tools.js';
import { startService } from '../service.js';
import { profile } from './ingest.js';

/** What the destinations run measured: each type, and the ceiling of any pipeline that takes one BullMQ job per delivery. */
export interface DestinationsResults {
  readonly runs: DestinationRun[];
  /** Jobs per second of a no-op BullMQ worker (concurrency 100) on a preloaded queue of the same run. */
  readonly noopWorker: number;
}

/** One destination type: fanout's workers against its client library alone, the same events and the same number in flight. */
export interface DestinationRun {
  readonly kind: DestinationLoopKind;
  /** Deliveries per second: fanout's workers on a preloaded queue. */
  readonly fanout: number;
  /** Events per second of the raw client loop. */
  readonly raw: number;
  /** CPU µs per delivery of the worker process, and per event of the raw loop. */
  readonly cpuUs: { readonly fanout: number; readonly raw: number };
}

const BODY_BYTES = 1024;
/** In flight, per destination: the bench flows' concurrency (as the delivery run's). */
const CONCURRENCY = 100;
/** A batched destination's objects: 500 events (the contract's example), written at most 1 s after their first. */
const BATCH_EVENTS = 500;
/** Batches in flight: the resolved concurrency of a batched destination is 2 × maxEvents, room for two. */
const BATCHES_IN_FLIGHT = 2;
/** Sizes the preload: a little above what each reached here; a queue that runs dry ends its window early, its rate stays right. */
const EXPECTED_PER_SECOND: Record<DestinationLoopKind, number> = { 's3-object': 2_500, 's3-batch': 8_000, amqp: 8_000, nats: 8_000 };

interface Target {
  /** The destination's YAML fields after its name. */
  readonly fields: string;
  readonly loop: Pick<DestinationLoopOptions, 's3' | 'amqp' | 'nats'>;
  readonly cleanup: () => Promise<void>;
}

async function target(kind: DestinationLoopKind, s3: S3Server): Promise<Target> {
  switch (kind) {
    case 's3-object':
    case 's3-batch': {
      const bucket = uniqueName('bench');
      await s3.createBucket(bucket);
      const store = `bucket: ${bucket}, endpoint: "${s3.url}", credentials: { accessKeyId: ${S3_SERVER_CREDENTIALS.accessKeyId}, secretAccessKey: ${S3_SERVER_CREDENTIALS.secretAccessKey} }`;
      const batch = kind === 's3-batch' ? `, batch: { maxEvents: ${BATCH_EVENTS}, maxWait: 1s }` : '';
      return { fields: `type: s3, ${store}, prefix: fanout/${batch}`, loop: { s3: { endpoint: s3.url, bucket, credentials: S3_SERVER_CREDENTIALS } }, cleanup: () => s3.deleteBucket(bucket) };
    }
    case 'amqp': {
      const broker = await connectRabbitMq();
      const channel = await broker.createChannel();
      const queue = uniqueName('bench');
      await channel.assertQueue(queue, { durable: true });
      return {
        fields: `type: amqp, url: "${RABBITMQ_URL}", routingKey: ${queue}`,
        loop: { amqp: { url: RABBITMQ_URL, queue } },
        cleanup: async () => {
          await channel.deleteQueue(queue);
          await broker.close();
        },
      };
    }
    case 'nats': {
      const { connection, jsm } = await connectNats();
      const stream = uniqueName('bench').replace(/-/g, '_');
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      return {
        fields: `type: nats, url: "${NATS_URL}", subject: ${stream}.fanout`,
        loop: { nats: { url: NATS_URL, subject: `${stream}.raw` } },
        cleanup: async () => {
          await jsm.streams.delete(stream);
          await connection.close();
        },
      };
    }
  }
}

/** Jobs no longer waiting or active: delivered (or failed) by the workers. */
async function finishedJobs(ctx: BenchContext, bullPrefix: string, queue: string, preloaded: number): Promise<number> {
  const replies = (await ctx.redis.pipeline().llen(`${bullPrefix}:${queue}:wait`).llen(`${bullPrefix}:${queue}:active`).exec()) ?? [];
  return preloaded - replies.reduce((sum, [, length]) => sum + Number(length ?? 0), 0);
}

async function runOne(ctx: BenchContext, kind: DestinationLoopKind, s3: S3Server): Promise<DestinationRun> {
  const name = `dest-${kind}`;
  const at = await target(kind, s3);
  try {
    ctx.log(`destinations: ${kind}, fanout workers`);
    const folder = join(ctx.flowsDir, name);
    await mkdir(folder, { recursive: true });
    const yaml = ['apiVersion: fanout.dev/v1', 'kind: DeliveryFlow', `metadata: { name: ${name} }`, 'spec:', `  defaults: { timeout: 10s, concurrency: ${CONCURRENCY}, retry: { attempts: 3 } }`, '  destinations:', `    - { name: d1, ${at.fields} }`, ''];
    await writeFile(join(folder, 'flow.yaml'), yaml.join('\n'));
    const [flow] = await loadFlows(folder, process.env);
    const prefix = ctx.newPrefix(name);
    const keys = createKeys(prefix);
    const queue = deliveryQueueName(name, 'd1');
    const events = Math.ceil(EXPECTED_PER_SECOND[kind] * ((ctx.warmupMs + ctx.durationMs) / 1000) * 1.3);
    const appended = await appendEvents(ctx.redis, keys, name, events, (i) => eventBody(BODY_BYTES, i));
    await recordDeliveries(ctx.redis, keys, flow!, appended, 3_600_000);
    await addDeliveryJobs(ctx.redis, keys, flow!, appended);
    const service = await startService({ node: ctx.node.path, mainScript: ctx.mainScript, roles: ['worker'], redisUrl: ctx.redisUrl, flowsPath: folder, prefix, ...profile(ctx, `destinations-${kind}-worker`) });
    const cpuAtStart = service.cpuMs();
    const delivered = await meterRate({ read: () => finishedJobs(ctx, keys.bullPrefix, queue, events), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: events });
    const cpuMs = service.cpuMs() - cpuAtStart;
    await service.stop();
    const done = await finishedJobs(ctx, keys.bullPrefix, queue, events);
    recordUnits(ctx, `destinations-${kind}-worker`, done, 'delivery');
    await cleanRedis(ctx.redis, prefix);

    ctx.log(`destinations: ${kind}, raw client loop`);
    const options: DestinationLoopOptions = { kind, ...at.loop, concurrency: kind === 's3-batch' ? BATCHES_IN_FLIGHT : CONCURRENCY, batchEvents: BATCH_EVENTS, bodyBytes: BODY_BYTES, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs };
    const loop = startBaseline(ctx, 'destination-loop', options, `destinations-${kind}-raw`);
    const raw = (await loop.result) as { perSecond: number; total: number; cpuUsPerEvent: number };
    recordUnits(ctx, `destinations-${kind}-raw`, raw.total, 'event');
    return { kind, fanout: delivered.perSecond, raw: raw.perSecond, cpuUs: { fanout: (cpuMs * 1000) / Math.max(1, done), raw: raw.cpuUsPerEvent } };
  } finally {
    await at.cleanup();
  }
}

/**
 * Deliveries per second to each destination type other than http, fanout's workers alone on a
 * preloaded queue (counted as jobs leave it), against a loop of the type's client library
 * doing the same writes with as many in flight: an s3rver of the run's own for S3, and the
 * machine's RabbitMQ and NATS JetStream.
 */
export async function runDestinations(ctx: BenchContext): Promise<DestinationsResults> {
  const s3 = await startS3Server();
  try {
    const runs: DestinationRun[] = [];
    for (const kind of ['s3-batch', 's3-object', 'amqp', 'nats'] as const) runs.push(await runOne(ctx, kind, s3));
    return { runs, noopWorker: await noopCeiling(ctx) };
  } finally {
    await s3.close();
  }
}

/**
 * A no-op BullMQ worker on a preloaded queue: what one job per delivery allows on this machine
 * now, whatever the destination. A raw loop faster than this cannot be matched by fanout's
 * per-event jobs, batched or not.
 */
async function noopCeiling(ctx: BenchContext): Promise<number> {
  ctx.log('destinations: no-op BullMQ worker');
  const prefix = ctx.newPrefix('dest-noop');
  const keys = createKeys(prefix);
  const name = 'dest-noop';
  const folder = join(ctx.flowsDir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'flow.yaml'), `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: ${name} }\nspec:\n  destinations:\n    - { name: d1, type: http, url: "http://127.0.0.1:9/" }\n`);
  const [flow] = await loadFlows(folder, process.env);
  const queue = deliveryQueueName(name, 'd1');
  const events = Math.ceil(12_000 * ((ctx.warmupMs + ctx.durationMs) / 1000));
  const now = Date.now();
  await addDeliveryJobs(ctx.redis, keys, flow!, Array.from({ length: events }, (_, i) => ({ eventId: `evt-${i}`, streamId: `${now}-${i}`, receivedAt: now })));
  const worker = startBaseline(ctx, 'noop-worker', { redisUrl: ctx.redisUrl, bullPrefix: keys.bullPrefix, queues: [queue], concurrency: CONCURRENCY });
  await worker.ready;
  const rate = await meterRate({ read: () => finishedJobs(ctx, keys.bullPrefix, queue, events), warmupMs: ctx.warmupMs, durationMs: ctx.durationMs, total: events });
  await worker.stop();
  await cleanRedis(ctx.redis, prefix);
  return rate.perSecond;
}
