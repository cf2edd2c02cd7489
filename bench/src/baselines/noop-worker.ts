/**
 * Baseline of the delivery run: one BullMQ Worker per destination queue whose processor does
 * nothing, concurrency 100 each. What BullMQ itself allows for taking and completing jobs;
 * the bench counts completions from the queues' completed sets.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { announce, childOptions, onStop } from '../child.js';

interface Options {
  redisUrl: string;
  bullPrefix: string;
  queues: string[];
  concurrency: number;
}

const options = childOptions<Options>();
const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
let completed = 0;
const workers = options.queues.map((name) => {
  const worker = new Worker(name, async () => {}, { connection, prefix: options.bullPrefix, concurrency: options.concurrency });
  worker.on('completed', () => void completed++);
  return worker;
});
await Promise.all(workers.map((worker) => worker.waitUntilReady()));
announce({ ready: {} });
onStop(async () => {
  await Promise.all(workers.map((worker) => worker.close(true)));
  announce({ result: { completed } });
  connection.disconnect();
});
