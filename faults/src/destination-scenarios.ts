import { deliveryQueueName } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { connectNats, connectRabbitMq, NATS_URL, RABBITMQ_URL, S3_SERVER_CREDENTIALS, startS3Server, startTcpProxy, uniqueName, type S3Server } from '@fanout/testkit';
import { Queue } from 'bullmq';
import { amqpQueue, natsStream, observeDestinations, s3Batches, s3Objects } from './destination-observers.js';
import type { DestinationSpec } from './flow-file.js';
import { FLOW, type ScenarioReport } from './harness.js';
import { atTimes, faultTimes, RECOVERY, runScenario, sleep, waitUntil, type Scenario, type ScenarioConfig } from './scenarios.js';

/**
 * The policy of these scenarios' destinations: retries enough to outlast a fault many times
 * over. A store or broker that is down refuses at once, so attempts go as fast as the backoff
 * lets them: 20 attempts from 250 ms up to 2 s, full jitter, span about 25 s on average.
 */
function policy(config: ScenarioConfig, concurrency: number): Omit<DestinationSpec, 'name' | 'target'> {
  return { attempts: 20, timeoutMs: RECOVERY[config.recovery].destinationTimeoutMs, retryDelayMs: 250, maxRetryDelayMs: 2_000, concurrency };
}

/** The two s3 destinations on one bucket: `archive` in NDJSON batches, `objects` one object per event. */
function s3Specs(config: ScenarioConfig, server: S3Server, bucket: string, batch: { maxEvents: number; maxWait: string }): DestinationSpec[] {
  const store = [`bucket: ${bucket}`, `endpoint: "${server.url}"`, `credentials: { accessKeyId: ${S3_SERVER_CREDENTIALS.accessKeyId}, secretAccessKey: ${S3_SERVER_CREDENTIALS.secretAccessKey} }`];
  return [
    { name: 'archive', ...policy(config, 2 * batch.maxEvents), target: ['type: s3', ...store, 'prefix: archive/', `batch: { maxEvents: ${batch.maxEvents}, maxWait: ${batch.maxWait} }`] },
    { name: 'objects', ...policy(config, 8), target: ['type: s3', ...store, 'prefix: objects/'] },
  ];
}

/** Runs a scenario against a bucket of its own on an s3rver of its own, both gone afterwards. */
async function withBucket(config: ScenarioConfig, run: (server: S3Server, bucket: string) => Promise<ScenarioReport>): Promise<ScenarioReport> {
  const server = await startS3Server();
  const bucket = uniqueName(`faults-${config.seed}`);
  await server.createBucket(bucket);
  try {
    return await run(server, bucket);
  } finally {
    await server.deleteBucket(bucket).catch(() => {});
    await server.close();
  }
}

export const s3Outage: Scenario = {
  name: 's3-outage',
  summary:
    'Stop the S3 server (s3rver, SIGKILL) for 2-4 s mid-run, twice, and start it again on its data; a batched (NDJSON) and a per-event destination write to it. Every acked event is in the bucket (lost 0, unexpected 0); an event in two objects only whole, with its id.',
  run: (config) =>
    withBucket(config, async (server, bucket) => {
      const observer = observeDestinations([s3Batches(server, bucket, 'archive', 'archive/'), s3Objects(server, bucket, 'objects', 'objects/')]);
      try {
        const setup = { destinations: s3Specs(config, server, bucket, { maxEvents: 20, maxWait: '1s' }), observer };
        return await runScenario('s3-outage', config, setup, async (harness, _load, random, loadMs) => {
          await atTimes(Date.now(), faultTimes(random, Math.min(config.faults, 2), loadMs), async () => {
            const downMs = random.int(2_000, 4_000);
            const stoppedAt = Date.now();
            await server.stop();
            await sleep(downMs);
            await server.start();
            harness.fault('SIGKILL+restart', 's3rver', `down ${Date.now() - stoppedAt} ms`, stoppedAt);
          });
          return {};
        });
      } finally {
        await observer.close();
      }
    }),
};

export const s3WorkerKill: Scenario = {
  name: 's3-worker-kill',
  summary:
    'SIGKILL a worker while a batch of the NDJSON destination is open (its deliveries active, waiting for the write), restart it; their jobs come back when their locks expire. Every acked event is in the bucket (lost 0, unexpected 0); an event in two objects only whole, with its id.',
  run: (config) =>
    withBucket(config, async (server, bucket) => {
      const observer = observeDestinations([s3Batches(server, bucket, 'archive', 'archive/'), s3Objects(server, bucket, 'objects', 'objects/')]);
      try {
        const setup = { destinations: s3Specs(config, server, bucket, { maxEvents: 50, maxWait: '2s' }), observer };
        return await runScenario('s3-worker-kill', config, setup, async (harness, _load, random, loadMs) => {
          const archive = new Queue(deliveryQueueName(FLOW, 'archive'), { connection: harness.redis.observer, prefix: createKeys(harness.prefix).bullPrefix });
          try {
            await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
              const target = random.pick(harness.workers);
              const open = await waitUntil(async () => (await archive.getActiveCount().catch(() => 0)) > 0, 3_000);
              const active = await archive.getActiveCount().catch(() => 0);
              await target.signal('SIGKILL');
              harness.workersHit(1);
              harness.fault('SIGKILL', target.name, open ? `${active} archive deliveries active (in open batches or being written), any worker` : 'no open batch seen within 3 s');
              await sleep(random.int(0, 1_000));
              await target.start();
            });
          } finally {
            await archive.close();
          }
          return {};
        });
      } finally {
        await observer.close();
      }
    }),
};

export const brokerDrop: Scenario = {
  name: 'broker-drop',
  summary:
    "Cut the workers' connections to RabbitMQ and to NATS (TCP proxies in front of the machine's brokers) mid-run, at each fault; the kinds reconnect by themselves. Every acked event is in the AMQP queue and the JetStream stream (lost 0, unexpected 0); duplicates only whole messages with their ids (JetStream's duplicate window keeps NATS's out).",
  async run(config) {
    const rabbit = await connectRabbitMq();
    const channel = await rabbit.createChannel();
    const { connection: nats, jsm } = await connectNats();
    const queue = uniqueName(`faults-${config.seed}`);
    const stream = uniqueName(`faults_${config.seed}`).replace(/-/g, '_');
    const amqpProxy = await startTcpProxy(new URL(RABBITMQ_URL).host);
    const natsProxy = await startTcpProxy(new URL(NATS_URL).host);
    try {
      await channel.assertQueue(queue, { durable: true });
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
      const amqpUrl = new URL(RABBITMQ_URL);
      amqpUrl.port = String(amqpProxy.port);
      const observer = observeDestinations([await amqpQueue(channel, queue, 'bus'), natsStream(jsm, stream, 'js')]);
      try {
        const specs: DestinationSpec[] = [
          { name: 'bus', ...policy(config, 8), target: ['type: amqp', `url: "${amqpUrl.toString()}"`, `routingKey: ${queue}`] },
          { name: 'js', ...policy(config, 8), target: ['type: nats', `url: "nats://127.0.0.1:${natsProxy.port}"`, `subject: ${stream}.events`] },
        ];
        return await runScenario('broker-drop', config, { destinations: specs, observer }, async (harness, _load, random, loadMs) => {
          await atTimes(Date.now(), faultTimes(random, config.faults, loadMs), async () => {
            const cut = { amqp: amqpProxy.open, nats: natsProxy.open };
            amqpProxy.dropConnections();
            natsProxy.dropConnections();
            harness.fault('connection reset', 'RabbitMQ and NATS', `${cut.amqp} AMQP and ${cut.nats} NATS connections cut`);
          });
          return {};
        });
      } finally {
        await observer.close();
      }
    } finally {
      await amqpProxy.close();
      await natsProxy.close();
      await channel.deleteQueue(queue).catch(() => {});
      await jsm.streams.delete(stream).catch(() => {});
      await rabbit.close().catch(() => {});
      await nats.close();
    }
  },
};

export const DESTINATION_SCENARIOS: readonly Scenario[] = [s3Outage, s3WorkerKill, brokerDrop];
