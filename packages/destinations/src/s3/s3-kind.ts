import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import type { S3Destination } from '@fanout/flows';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AttemptReport, DestinationClient } from '../attempt.js';
import { withDeadline, type DeadlineResult } from '../deadline.js';
import { errorField, oneLine } from '../error-facts.js';
import { guardedAgent } from '../guarded-agent.js';
import { createNetworkGuard, type NetworkGuard } from '../network-guard.js';
import type { DestinationKind, KindOptions } from '../registry.js';
import { createBatcher, type Batcher, type BatchMember } from './batcher.js';
import { classifyS3Failure, s3Failure } from './classify-outcome.js';
import { ndjsonLine } from './ndjson-line.js';
import { batchObjectKey, eventObjectKey } from './object-key.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Sockets one store's client keeps open at most: above any one destination's concurrency of writes. */
const MAX_SOCKETS = 256;

/**
 * The s3 kind, on @aws-sdk/client-s3. One S3Client per store (endpoint, region and
 * credentials) for the process, each with its own keep-alive sockets, reused by every
 * destination that writes there; the SDK opens new sockets as old ones break, so a store that
 * restarts is written to again without anything done. Per-event destinations write one object
 * per attempt; batched ones (`batch`) collect their attempts and write one NDJSON object for
 * a batch, every attempt of it waiting (its job active, its lock renewed) until the write.
 * Every socket a client opens passes the network guard (guardedAgent).
 */
export function createS3Kind({ networkGuard = createNetworkGuard() }: KindOptions = {}): DestinationKind<S3Destination> {
  const stores = new Map<string, S3Client>();
  const batchers = new Set<Batcher<BatchLine, BatchWrite>>();
  const storeOf = (destination: S3Destination): S3Client => {
    const id = JSON.stringify([destination.endpoint ?? null, destination.region, destination.credentials ?? null]);
    let store = stores.get(id);
    if (!store) stores.set(id, (store = createS3Client(destination, networkGuard)));
    return store;
  };
  return {
    type: 's3',
    client(destination) {
      const store = storeOf(destination);
      if (!destination.batch) return eventClient(store, destination);
      const batcher = createBatcher<BatchLine, BatchWrite>(destination.batch, (members, signal) => writeBatch(store, destination, members, signal));
      batchers.add(batcher);
      return batchClient(batcher);
    },
    drain() {
      for (const batcher of batchers) batcher.drain();
    },
    async close() {
      for (const store of stores.values()) store.destroy();
      stores.clear();
    },
  };
}

/**
 * The client of one store, as the kind makes it (exported for the bench's raw baseline, which
 * writes with the same client). The SDK's own retries are off: every write is one attempt of
 * the destination's policy, which retries, backs off and records it. Checksums only where an
 * operation requires them: current SDKs otherwise send uploads `aws-chunked` with trailing
 * checksums, which not every S3-compatible store reads (some store the framing as the
 * object's bytes). Its sockets pass the network guard: the endpoint's and the store's own
 * (AWS's regional names alike). The SDK's credential chain (instance metadata included)
 * sends through clients of its own: it is fanout's identity, not a destination.
 */
export function createS3Client(destination: Pick<S3Destination, 'region' | 'endpoint' | 'credentials'>, networkGuard: NetworkGuard): S3Client {
  const sockets = { keepAlive: true, maxSockets: MAX_SOCKETS };
  return new S3Client({
    region: destination.region,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // NodeHttpHandler destroys the agents it is given when the client is destroyed.
    requestHandler: new NodeHttpHandler({ httpAgent: guardedAgent(new HttpAgent(sockets), networkGuard), httpsAgent: guardedAgent(new HttpsAgent(sockets), networkGuard) }),
    ...(destination.endpoint !== undefined && { endpoint: destination.endpoint, forcePathStyle: true }),
    // A copy: the SDK marks the credentials object it is given, and a loaded flow is frozen.
    ...(destination.credentials && { credentials: { ...destination.credentials } }),
  });
}

/** Puts the object its input makes, under the attempt's deadline (a failure to make it, such as a read before it, is a failed write too). */
function put(store: S3Client, input: (deadline: AbortSignal) => Promise<PutObjectCommandInput> | PutObjectCommandInput, timeoutMs: number, signal: AbortSignal): Promise<DeadlineResult<unknown>> {
  return withDeadline(timeoutMs, signal, async (deadline) => store.send(new PutObjectCommand(await input(deadline)), { abortSignal: deadline }));
}

function report(result: DeadlineResult<unknown>, durationMs: number, written: string): AttemptReport {
  if (result.ok) return { outcome: { kind: 'delivered' }, durationMs, statusCode: 200, response: written };
  if (result.interrupted) return { outcome: { kind: 'retry', reason: 'interrupted by shutdown' }, durationMs, interrupted: true };
  const failure = s3Failure(result.error, result.timedOut);
  const outcome = classifyS3Failure(failure);
  const response = failure.message !== outcome.reason ? { response: oneLine(failure.message) } : {};
  return { outcome, durationMs, ...(failure.statusCode === undefined ? {} : { statusCode: failure.statusCode }), ...response };
}

/** One object per event: the body byte for byte, the event's Content-Type, `webhook-id` metadata. */
function eventClient(store: S3Client, destination: S3Destination): DestinationClient {
  return {
    async deliver(attempt) {
      const key = eventObjectKey(destination.prefix, attempt.eventId, attempt.receivedAt);
      const input = (): PutObjectCommandInput => ({
        Bucket: destination.bucket,
        Key: key,
        Body: attempt.body,
        ...(attempt.contentType === '' ? {} : { ContentType: attempt.contentType }),
        Metadata: { 'webhook-id': attempt.eventId },
      });
      const result = await put(store, input, destination.timeoutMs, attempt.signal);
      return report(result, result.durationMs, key);
    },
  };
}

interface BatchLine {
  readonly eventId: string;
  readonly receivedAt: number;
  readonly line: string;
}

interface BatchWrite {
  readonly key: string;
  readonly result: DeadlineResult<unknown>;
}

/** Each attempt joins its destination's open batch and reports what the batch's write came to. */
function batchClient(batcher: Batcher<BatchLine, BatchWrite>): DestinationClient {
  return {
    async deliver(attempt) {
      const startedAt = performance.now();
      const line = ndjsonLine(attempt);
      // The line and its newline.
      const joined = await batcher.join({ eventId: attempt.eventId, receivedAt: attempt.receivedAt, line }, Buffer.byteLength(line) + 1, attempt.signal);
      const durationMs = Math.round(performance.now() - startedAt);
      if (joined.kind === 'left') return { outcome: { kind: 'retry', reason: 'interrupted by shutdown before its batch was written' }, durationMs, interrupted: true };
      return report(joined.result.result, durationMs, joined.result.key);
    },
  };
}

const byId = (a: { readonly eventId: string }, b: { readonly eventId: string }): number => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0);

/**
 * One NDJSON object for the batch, its lines in event id order (ingest order: ids are UUIDv7),
 * named by its first and last ids. An object already there under that name (the same batch
 * written before, or after a crash another batch with the same first and last events) keeps
 * its lines: the object written holds both, so a line whose delivery was recorded delivered
 * is never overwritten away. Costs one GET per batch, a 404 almost always.
 */
async function writeBatch(store: S3Client, destination: S3Destination, members: readonly BatchMember<BatchLine>[], signal: AbortSignal): Promise<BatchWrite> {
  const ours = members.map(({ item }) => item).sort(byId);
  const gzipped = destination.compression === 'gzip';
  const key = batchObjectKey(destination.prefix, ours[0]!, ours[ours.length - 1]!.eventId, gzipped);
  const input = async (deadline: AbortSignal): Promise<PutObjectCommandInput> => {
    const held = await linesHeld(store, destination.bucket, key, gzipped, deadline);
    const lines = held.length === 0 ? ours : [...new Map([...held, ...ours].map((line) => [line.eventId, line])).values()].sort(byId);
    const text = Buffer.from(`${lines.map(({ line }) => line).join('\n')}\n`);
    return {
      Bucket: destination.bucket,
      Key: key,
      Body: gzipped ? await gzip(text) : text,
      ContentType: gzipped ? 'application/gzip' : 'application/x-ndjson',
      Metadata: { 'fanout-events': String(lines.length) },
    };
  };
  return { key, result: await put(store, input, destination.timeoutMs, signal) };
}

/** The lines of the batch object under `key`, none when there is no such object. */
async function linesHeld(store: S3Client, bucket: string, key: string, gzipped: boolean, signal: AbortSignal): Promise<{ eventId: string; line: string }[]> {
  let body: Uint8Array;
  try {
    const object = await store.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    body = await object.Body!.transformToByteArray();
  } catch (error) {
    if (errorField(error, 'name') === 'NoSuchKey' || s3Failure(error, false).statusCode === 404) return [];
    throw error;
  }
  // Only whole lines with an id are kept: a store whose writes are not atomic may have left a torn object.
  const text = gzipped ? await gunzip(body).then((bytes) => bytes.toString('utf8'), () => '') : Buffer.from(body).toString('utf8');
  return text.split('\n').flatMap((line) => {
    const id = parsedId(line);
    return id === undefined ? [] : [{ eventId: id, line }];
  });
}

function parsedId(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
