/**
 * Baseline of the all-in-one run: the data flow of `fanout start` with the same parts and
 * none of fanout's guarantees, in one process. Express + XADD of the event (the ingest
 * baseline's app); an XREADGROUP loop that adds one BullMQ job per destination carrying the
 * stream id (one addBulk per queue per batch, then XACK); a BullMQ Worker per destination that
 * XRANGEs the entry and POSTs its body with undici. No records, no delivery state, no job ids
 * of its own, no retries, no claiming of entries a crash left pending, no retention.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { COMPLETED_JOBS_KEPT } from '@fanout/queues';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { announce, childOptions, onStop } from '../child.js';
import { expressIngest } from './ingest-baseline.js';

interface Options {
  redisUrl: string;
  streamKey: string;
  bullPrefix: string;
  /** One queue and sink URL per destination. */
  destinations: { queue: string; url: string }[];
  /** Jobs in flight per destination, as the bench's flows give fanout's. */
  concurrency: number;
  /** Entries per XREADGROUP, as fanout's dispatcher reads them. */
  batchSize: number;
}

interface BareJob {
  streamId: string;
}

const GROUP = 'bare';
const options = childOptions<Options>();
const { streamKey, bullPrefix: prefix } = options;
// One connection for every command, one for the blocking read; BullMQ's workers open their own blocking ones.
const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
const reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
await redis.xgroup('CREATE', streamKey, GROUP, '0', 'MKSTREAM');

const queues = options.destinations.map(({ queue }) => new Queue<BareJob>(queue, { connection: redis, prefix }));
let running = true;
const dispatching = (async (): Promise<void> => {
  while (running) {
    const reply = (await reader.callBuffer('XREADGROUP', ['GROUP', GROUP, 'bare-1', 'COUNT', options.batchSize, 'BLOCK', 1_000, 'STREAMS', streamKey, '>']).catch(() => null)) as [Buffer, [Buffer, Buffer[]][]][] | null;
    const entries = reply?.[0]?.[1];
    if (!entries || entries.length === 0) continue;
    const ids = entries.map(([id]) => id.toString());
    await Promise.all(queues.map((queue) => queue.addBulk(ids.map((streamId) => ({ name: 'deliver', data: { streamId }, opts: { removeOnComplete: COMPLETED_JOBS_KEPT } })))));
    await redis.xack(streamKey, GROUP, ...ids);
  }
})();

const agent = new Agent({ keepAliveTimeout: 10_000 });
const deliver = (url: string) => async (job: Job<BareJob>): Promise<void> => {
  const [entry] = await redis.xrangeBuffer(streamKey, job.data.streamId, job.data.streamId);
  if (!entry) throw new Error(`stream entry ${job.data.streamId} is gone`);
  const fields = new Map<string, Buffer>();
  for (let i = 0; i < entry[1].length; i += 2) fields.set(entry[1][i]!.toString(), entry[1][i + 1]!);
  const { statusCode, body } = await request(url, { method: 'POST', body: fields.get('body') ?? null, headers: { 'content-type': 'application/json', 'webhook-id': fields.get('id')?.toString() ?? '' }, dispatcher: agent });
  await body.dump();
  if (statusCode < 200 || statusCode >= 300) throw new Error(`HTTP ${statusCode}`);
};
const workers = options.destinations.map(({ queue, url }) => new Worker<BareJob>(queue, deliver(url), { connection: redis, prefix, concurrency: options.concurrency }));
await Promise.all(workers.map((worker) => worker.waitUntilReady()));

const server = createServer(expressIngest(redis, streamKey));
server.listen(0, '127.0.0.1', () => announce({ ready: { port: (server.address() as AddressInfo).port } }));
onStop(async () => {
  running = false;
  server.close();
  reader.disconnect();
  await dispatching;
  await Promise.all(workers.map((worker) => worker.close(true)));
  await Promise.all(queues.map((queue) => queue.close()));
  await agent.close();
  redis.disconnect();
});
