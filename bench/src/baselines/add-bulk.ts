/**
 * Baseline of the fan-out run: raw BullMQ `addBulk` into the same queues the dispatcher
 * fills, with the same job data and options, batch by batch as the dispatcher does (one
 * addBulk per queue per batch of events, the queues in parallel), for a fixed time.
 */
import { newEventId } from '@fanout/core';
import { loadFlows } from '@fanout/flows';
import { Redis } from 'ioredis';
import { announce, childOptions } from '../child.js';
import { addEventJobs, flowQueues } from '../redis-tools.js';

interface Options {
  redisUrl: string;
  bullPrefix: string;
  flowsPath: string;
  flow: string;
  batchSize: number;
  durationMs: number;
}

const options = childOptions<Options>();
const [flow] = (await loadFlows(options.flowsPath, process.env)).filter(({ name }) => name === options.flow);
if (!flow) throw new Error(`no flow ${options.flow} in ${options.flowsPath}`);
const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
const target = flowQueues(connection, options.bullPrefix, flow);
await Promise.all(target.queues.map(({ queue }) => queue.waitUntilReady()));

announce({ ready: {} });
const cpuAtStart = process.cpuUsage();
const until = performance.now() + options.durationMs;
let events = 0;
let streamSeq = 1;
while (performance.now() < until) {
  const batch = Array.from({ length: options.batchSize }, () => ({ eventId: newEventId(), streamId: `${Date.now()}-${streamSeq++}`, receivedAt: Date.now() }));
  await addEventJobs(target, batch);
  events += options.batchSize;
}
const cpu = process.cpuUsage(cpuAtStart);
announce({ result: { events, jobs: events * target.queues.length, cpuUs: cpu.user + cpu.system } });
await Promise.all(target.queues.map(({ queue }) => queue.close()));
connection.disconnect();
process.exit(0);
