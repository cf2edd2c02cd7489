// A worker process of its own, for the tests that SIGKILL one mid-attempt. Plain JavaScript on
// the built packages (`npm test` builds first). argv[2] is JSON: { redisUrl, prefix, flow,
// recordTtlMs, stall }. Prints `ready` once its workers are connected; logs go to stderr.
import { DELIVERY_SCRIPTS, deliveryState } from '@fanout/delivery';
import { createDestinationRegistry } from '@fanout/destinations';
import { createLogger, createMetrics } from '@fanout/observability';
import { createKeys, createRedisConnection } from '@fanout/redis';
import { startWorkers } from '@fanout/worker';

const { redisUrl, prefix, flow, recordTtlMs, stall } = JSON.parse(process.argv[2]);
const redis = createRedisConnection(redisUrl, { purpose: 'background', name: 'run-workers', scripts: [DELIVERY_SCRIPTS] });
await redis.connect();
const keys = createKeys(prefix);
const logger = createLogger({ destination: process.stderr });
const state = deliveryState({ redis, keys, attemptLogTtlMs: recordTtlMs, now: Date.now });
const workers = startWorkers({ flows: [flow], connection: redis, keys, state, destinations: createDestinationRegistry(), metrics: createMetrics(), logger, ...stall });
await workers.waitUntilReady();
process.stdout.write('ready\n');
