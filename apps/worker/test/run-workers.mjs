// A worker process of its own, for the tests that SIGKILL one mid-attempt. Plain JavaScript on
// the built packages (`npm test` builds first). argv[2] is JSON: { redisUrl, prefix, flow,
// recordTtlMs, stall }. Prints `ready` once its workers are connected; logs go to stderr.
import { createHttpSender } from '@fanout/destinations';
import { createLogger, createMetrics } from '@fanout/observability';
import { createKeys, createRedisConnection } from '@fanout/redis';
import { startWorkers } from '@fanout/worker';

const { redisUrl, prefix, flow, recordTtlMs, stall } = JSON.parse(process.argv[2]);
const redis = createRedisConnection(redisUrl, { purpose: 'background', name: 'run-workers' });
await redis.connect();
const logger = createLogger({ destination: process.stderr });
const workers = startWorkers({ flows: [flow], connection: redis, redis, keys: createKeys(prefix), sender: createHttpSender(), metrics: createMetrics(), logger, recordTtlMs, ...stall });
await workers.waitUntilReady();
process.stdout.write('ready\n');
