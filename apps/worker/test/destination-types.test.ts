import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Destination } from '@fanout/flows';
import { amqpDestination, connectNats, connectRabbitMq, NATS_URL, natsDestination, RABBITMQ_URL, S3_SERVER_CREDENTIALS, s3Destination, startS3Server, testFlow, uniqueName, type S3Server } from '@fanout/testkit';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Channel, ChannelModel } from 'amqplib';
import { startHarness, type Harness } from './harness.js';

const EVENTS = 12;

describe('workers delivering to s3, amqp and nats destinations', () => {
  let s3: S3Server;
  let broker: ChannelModel;
  let channel: Channel;
  let nats: NatsConnection;
  let jsm: JetStreamManager;
  const bucket = uniqueName('fanout-worker-test');
  const queue = uniqueName('fanout-worker-test');
  const stream = uniqueName('fanout_worker_test').replace(/-/g, '_');
  let harness: Harness;
  let destinations: Record<'batched' | 'objects' | 'bus' | 'js', Destination>;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket(bucket);
    broker = await connectRabbitMq();
    channel = await broker.createChannel();
    await channel.assertQueue(queue, { durable: true });
    ({ connection: nats, jsm } = await connectNats());
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const store = { bucket, endpoint: s3.url, credentials: S3_SERVER_CREDENTIALS };
    destinations = {
      batched: s3Destination({ name: 'batched', ...store, prefix: 'batched/', batch: { maxEvents: 5, maxBytes: 1_048_576, maxWaitMs: 300 }, concurrency: 10 }),
      objects: s3Destination({ name: 'objects', ...store, prefix: 'objects/' }),
      bus: amqpDestination({ name: 'bus', url: RABBITMQ_URL, routingKey: queue }),
      js: natsDestination({ name: 'js', url: NATS_URL, subject: `${stream}.events` }),
    };
    harness = await startHarness({ flow: () => testFlow('payments', Object.values(destinations)) });
  }, 30_000);
  afterAll(async () => {
    await harness?.close();
    await s3.deleteBucket(bucket);
    await s3.close();
    await channel.deleteQueue(queue);
    await broker.close();
    await jsm.streams.delete(stream);
    await nats.close();
  });

  it('delivers every event to each, and records each delivery', async () => {
    const all = Object.values(destinations);
    const ids: string[] = [];
    for (let seq = 1; seq <= EVENTS; seq += 1) ids.push(await harness.publish(all, Buffer.from(JSON.stringify({ type: 't', seq }))));
    for (const id of ids) {
      for (const destination of all) await harness.waitForRecord(id, destination, (record) => record.status === 'delivered');
    }

    const batchLines = (await s3.objects(bucket, 'batched/')).flatMap(({ body }) => body.toString().trimEnd().split('\n').map((line) => JSON.parse(line) as { id: string; body: { seq: number } }));
    expect(batchLines.map(({ id }) => id).sort()).toEqual([...ids].sort());
    expect(batchLines.every(({ body }) => typeof body.seq === 'number')).toBe(true);
    expect((await s3.keys(bucket, 'objects/')).map((key) => key.split('/').pop()).sort()).toEqual([...ids].sort());
    expect((await channel.checkQueue(queue)).messageCount).toBe(EVENTS);
    expect((await jsm.streams.info(stream)).state.messages).toBe(EVENTS);
  }, 30_000);

  it('writes the open batch at once when the workers stop, instead of after its maxWait', async () => {
    const slow = s3Destination({ name: 'slow', bucket, endpoint: s3.url, credentials: S3_SERVER_CREDENTIALS, prefix: 'slow/', batch: { maxEvents: 50, maxBytes: 1_048_576, maxWaitMs: 120_000 }, concurrency: 50 });
    const own = await startHarness({ flow: () => testFlow('archive', [slow]) });
    try {
      const ids = [await own.publish([slow]), await own.publish([slow])];
      for (const id of ids) await own.waitForRecord(id, slow, (record) => record.status === 'active');
      await own.workers.stop(10_000);
      for (const id of ids) await own.waitForRecord(id, slow, (record) => record.status === 'delivered', 1_000);
      expect(await s3.keys(bucket, 'slow/')).toHaveLength(1);
    } finally {
      await own.close();
    }
  }, 30_000);
});
