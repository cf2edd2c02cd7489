/**
 * Baseline of the destinations run: the destination's client library alone, writing what
 * fanout's kind writes as fast as the store or broker takes it, with the same number in
 * flight, for warm-up + duration. Counts events (a batch object counts its lines).
 *   s3-object  PutObject of one event's body per event, with the kind's own S3Client
 *   s3-batch   PutObject of a batch's NDJSON (the kind's lines), with the kind's own S3Client
 *   amqp       amqplib confirm channel publish, awaiting each confirm
 *   nats       JetStream publish with a msgID, awaiting each acknowledgement
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { newEventId } from '@fanout/core';
import { createNetworkGuard, createS3Client, ndjsonLine } from '@fanout/destinations';
import { jetstream } from '@nats-io/jetstream';
import { connect as connectNats, headers } from '@nats-io/transport-node';
import { connect as connectAmqp } from 'amqplib';
import { announce, childOptions } from '../child.js';
import { eventBody } from '../load.js';

export type DestinationLoopKind = 's3-object' | 's3-batch' | 'amqp' | 'nats';

export interface DestinationLoopOptions {
  readonly kind: DestinationLoopKind;
  /** S3: the store and bucket. */
  readonly s3?: { readonly endpoint: string; readonly bucket: string; readonly credentials: { accessKeyId: string; secretAccessKey: string } };
  /** AMQP: the broker and the queue (default exchange). */
  readonly amqp?: { readonly url: string; readonly queue: string };
  /** NATS: the server and a subject a stream captures. */
  readonly nats?: { readonly url: string; readonly subject: string };
  /** Operations in flight: the destination's concurrency (for s3-batch, batches in flight). */
  readonly concurrency: number;
  /** Events per object, s3-batch only. */
  readonly batchEvents: number;
  readonly bodyBytes: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

/** One operation, resolving with the events it wrote. */
type Write = (n: number) => Promise<number>;

const options = childOptions<DestinationLoopOptions>();
const body = eventBody(options.bodyBytes);

async function writer(): Promise<{ write: Write; close: () => Promise<void> }> {
  switch (options.kind) {
    case 's3-object':
    case 's3-batch': {
      const { endpoint, bucket, credentials } = options.s3!;
      const client = createS3Client({ region: 'us-east-1', endpoint, credentials }, createNetworkGuard());
      const batch = Buffer.from(
        `${Array.from({ length: options.batchEvents }, () => ndjsonLine({ eventId: newEventId(), flow: 'bench', receivedAt: Date.now(), contentType: 'application/json', body })).join('\n')}\n`,
      );
      const perObject = options.kind === 's3-batch' ? options.batchEvents : 1;
      const write: Write = async (n) => {
        const key = `raw/${options.kind}/${n}`;
        const input = options.kind === 's3-batch' ? { Body: batch, ContentType: 'application/x-ndjson' } : { Body: body, ContentType: 'application/json', Metadata: { 'webhook-id': key } };
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, ...input }));
        return perObject;
      };
      return { write, close: async () => client.destroy() };
    }
    case 'amqp': {
      const { url, queue } = options.amqp!;
      const connection = await connectAmqp(url);
      const channel = await connection.createConfirmChannel();
      const write: Write = (n) =>
        new Promise((resolve, reject) => {
          const id = `raw-${n}`;
          const properties = { persistent: true, mandatory: true, messageId: id, contentType: 'application/json', timestamp: Math.floor(Date.now() / 1_000), headers: { 'webhook-id': id, 'fanout-flow': 'bench' } };
          channel.publish('', queue, body, properties, (error: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(1)));
        });
      return { write, close: () => connection.close() };
    }
    case 'nats': {
      const { url, subject } = options.nats!;
      const connection = await connectNats({ servers: url });
      const js = jetstream(connection);
      const write: Write = async (n) => {
        const h = headers();
        h.set('webhook-id', `raw-${n}`);
        h.set('fanout-flow', 'bench');
        h.set('Content-Type', 'application/json');
        await js.publish(subject, body, { msgID: `raw-${n}`, headers: h });
        return 1;
      };
      return { write, close: () => connection.close() };
    }
  }
}

async function main(): Promise<void> {
  const { write, close } = await writer();
  announce({ ready: {} });
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const until = measureFrom + options.durationMs;
  let next = 0;
  let counted = 0;
  let total = 0;
  let failed = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      try {
        const events = await write(next++);
        total += events;
        const now = performance.now();
        if (now >= measureFrom && now < until) counted += events;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const cpu = process.cpuUsage(cpuAtStart);
  await close();
  announce({ result: { perSecond: counted / (options.durationMs / 1000), total, failed, cpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, total) } });
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
