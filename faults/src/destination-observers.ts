import { gunzipSync } from 'node:zlib';
import type { S3Server, StoredObject } from '@fanout/testkit';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Channel } from 'amqplib';
import type { DestinationObserver } from './harness.js';
import type { ReceivedAttempt } from './recording-receiver.js';

/** One destination's copies, re-read from scratch by `read`. */
interface Watched {
  readonly destination: string;
  /** Every copy the destination holds now, and what is wrong with any; `fromScratch` reads again what was read before. */
  read(fromScratch: boolean): Promise<{ attempts: ReceivedAttempt[]; violations: string[] }>;
}

const POLL_MS = 300;

/** s3rver's answer to reading an object whose files a kill left half written. */
function isInternalError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'name' in error && error.name === 'InternalError';
}

function seqOf(body: unknown): number | undefined {
  const seq = typeof body === 'object' && body !== null && 'seq' in body ? body.seq : undefined;
  return typeof seq === 'number' && Number.isInteger(seq) ? seq : undefined;
}

function copy(destination: string, webhookId: string, seq: number | undefined): ReceivedAttempt {
  const at = Date.now();
  return { destination, webhookId, seq, receivedAt: at, status: 200, answeredAt: at };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The copies in each object of a bucket under a prefix, read once per key once whole (again
 * from scratch when asked). s3rver writes an object's file and its metadata file in place, one after the
 * other, so one SIGKILLed mid-write can leave an empty object under the key, or one it cannot
 * read back (500 InternalError); AWS S3's and MinIO's PUTs are atomic. Such a write failed at
 * the writer and its events were written again, so a torn object holds no copy that counts:
 * it is skipped (fanout never writes an empty batch, the load generator never sends an empty
 * body). Skipping can only hide copies, never invent one, so it cannot hide a lost event.
 */
function s3Watched(server: S3Server, bucket: string, destination: string, prefix: string, copiesIn: (object: StoredObject, violations: string[]) => ReceivedAttempt[]): Watched {
  const byKey = new Map<string, { attempts: ReceivedAttempt[]; violations: string[] }>();
  return {
    destination,
    async read(fromScratch) {
      if (fromScratch) byKey.clear();
      for (const key of await server.keys(bucket, prefix)) {
        if (byKey.has(key)) continue;
        const object = await server.object(bucket, key).catch((error: unknown) => (isInternalError(error) ? ('torn' as const) : Promise.reject(error)));
        // Torn, or still being written (s3rver writes in place): read again at the next poll, which may find it whole.
        if (object === 'torn' || object.body.length === 0) continue;
        const violations: string[] = [];
        byKey.set(key, { attempts: copiesIn(object, violations), violations });
      }
      return { attempts: [...byKey.values()].flatMap((read) => read.attempts), violations: [...byKey.values()].flatMap((read) => read.violations) };
    },
  };
}

/**
 * A batched s3 destination's objects under `prefix`: each NDJSON line is one copy of its event,
 * and must be a whole event (id, flow, receivedAt, contentType and its body).
 */
export function s3Batches(server: S3Server, bucket: string, destination: string, prefix: string): Watched {
  return s3Watched(server, bucket, destination, prefix, (object, violations) => {
    const attempts: ReceivedAttempt[] = [];
    const text = (object.key.endsWith('.gz') ? gunzipSync(object.body) : object.body).toString('utf8');
    for (const [index, line] of text.trimEnd().split('\n').entries()) {
      const event = parseJson(line) as Record<string, unknown> | undefined;
      const whole = event && typeof event['id'] === 'string' && typeof event['flow'] === 'string' && typeof event['receivedAt'] === 'string' && typeof event['contentType'] === 'string' && 'body' in event;
      if (!whole) violations.push(`${destination}: ${object.key} line ${index + 1} is not a whole event: ${line.slice(0, 120)}`);
      else attempts.push(copy(destination, event['id'] as string, seqOf(event['body'])));
    }
    return attempts;
  });
}

/** A per-event s3 destination's objects under `prefix`: the key ends with the event id, its metadata says the same. */
export function s3Objects(server: S3Server, bucket: string, destination: string, prefix: string): Watched {
  return s3Watched(server, bucket, destination, prefix, (object, violations) => {
    const id = object.key.split('/').pop() ?? '';
    if (object.metadata['webhook-id'] !== id) violations.push(`${destination}: ${object.key} has webhook-id ${object.metadata['webhook-id'] ?? '(none)'}`);
    return [copy(destination, id, seqOf(parseJson(object.body.toString('utf8'))))];
  });
}

/** An AMQP queue, consumed as messages arrive: each message one copy, by its messageId. */
export async function amqpQueue(channel: Channel, queue: string, destination: string): Promise<Watched> {
  const attempts: ReceivedAttempt[] = [];
  const violations: string[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (!message) return;
      const id = String(message.properties.messageId ?? '');
      if (message.properties.headers?.['webhook-id'] !== id) violations.push(`${destination}: message ${id} has webhook-id header ${String(message.properties.headers?.['webhook-id'])}`);
      attempts.push(copy(destination, id, seqOf(parseJson(message.content.toString('utf8')))));
    },
    { noAck: true },
  );
  return { destination, read: async () => ({ attempts: [...attempts], violations: [...violations] }) };
}

/** A JetStream stream: each stored message one copy, by its Nats-Msg-Id. */
export function natsStream(jsm: JetStreamManager, stream: string, destination: string): Watched {
  const attempts: ReceivedAttempt[] = [];
  let next = 1;
  return {
    destination,
    async read() {
      // Stored messages never change: reading on from the last one seen is reading from scratch.
      const last = (await jsm.streams.info(stream)).state.last_seq;
      for (; next <= last; next += 1) {
        const message = await jsm.streams.getMessage(stream, { seq: next });
        if (message) attempts.push(copy(destination, message.header.get('Nats-Msg-Id'), seqOf(parseJson(Buffer.from(message.data).toString('utf8')))));
      }
      return { attempts: [...attempts], violations: [] };
    },
  };
}

/** Polls every watched destination until closed; the harness reads what the last poll found. */
export function observeDestinations(watched: readonly Watched[]): DestinationObserver & { close(): Promise<void> } {
  const found = new Map<string, { attempts: ReceivedAttempt[]; violations: string[] }>();
  let stopped = false;
  const readAll = async (fromScratch: boolean): Promise<void> => {
    for (const one of watched) found.set(one.destination, await one.read(fromScratch).catch(() => found.get(one.destination) ?? { attempts: [], violations: [] }));
  };
  const loop = (async () => {
    while (!stopped) {
      await readAll(false);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return {
    attempts: (destination) => found.get(destination)?.attempts,
    get total() {
      return [...found.values()].reduce((sum, { attempts }) => sum + attempts.length, 0);
    },
    async refresh() {
      // The last read, from scratch, fails loudly: a count from a store that did not answer would be wrong.
      for (const one of watched) found.set(one.destination, await one.read(true));
    },
    violations: () => [...found.values()].flatMap(({ violations }) => violations),
    async close() {
      stopped = true;
      await loop;
    },
  };
}
