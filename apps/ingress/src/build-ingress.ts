import { FanoutError, quoted } from '@fanout/core';
import type { Flow, VerifyPolicy } from '@fanout/flows';
import { errorHandler, type RouteDoc } from '@fanout/http';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import type { FanoutKeys } from '@fanout/redis';
import { Router, type Request } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { acceptEvent } from './accept-event.js';
import { idempotencyKeys } from './idempotency-key.js';
import { contentEncodingOf, decodeBody, readRawBody, type ContentEncoding } from './read-body.js';
import { requestBytes } from './request-bytes.js';
import { signatureCheck, type SignatureCheck, type VerifiedRequest } from './signatures/verify-signature.js';

export interface IngressDeps {
  /** The loaded flow of that name, undefined when there is none. */
  findFlow(name: string): Flow | undefined;
  /**
   * Created with `createRedisConnection(url, { purpose: 'request' })`: no offline queue and a
   * 1 s command timeout, so a request fails fast (503) instead of waiting for Redis.
   */
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  readonly metrics: Pick<FanoutMetrics, 'eventsAccepted'>;
  readonly logger: Logger;
  /** How long an event record lives after the event is accepted, in milliseconds (the main process passes 7 days). */
  readonly eventRecordTtlMs: number;
  /** True once the process drains after SIGTERM: new webhooks get 503 SHUTTING_DOWN. */
  isDraining(): boolean;
  /** Unix milliseconds stamped as the event's receivedAt, and the clock signatures' timestamps are checked on. Default `Date.now`. */
  now?: () => number;
  /**
   * Redis replicas that must confirm an event (WAIT) before it is answered 202; when fewer do
   * within `replicaTimeoutMs` the answer is 503 REPLICATION_TIMEOUT. Default 0: the primary's
   * write alone, with no extra round trip.
   */
  readonly replicas?: number;
  /** How long an event waits for its replicas, in milliseconds. Default 1000. */
  readonly replicaTimeoutMs?: number;
  /**
   * Redis's memory headroom: new events are refused (503 REDIS_MEMORY_FULL) while Redis
   * uses `limit` or more of its maxmemory, so deliveries in flight can still record their
   * outcome. Absent: no check before the write (Redis's own OOM refusal still answers so).
   */
  readonly memory?: { share(): number | undefined; readonly limit: number };
  /**
   * The cap on request body bytes this process holds at once, over every request
   * (FANOUT_INGRESS_MAX_BUFFERED); beyond it a request gets 503 INGRESS_BUSY with
   * Retry-After. Encoded and decoded bytes both count. Default 64 MiB.
   */
  readonly maxBufferedBytes?: number;
  /** How long a request's whole body may take to arrive, in ms (FANOUT_BODY_TIMEOUT); then 408 REQUEST_TIMEOUT. Default 10 s. */
  readonly bodyTimeoutMs?: number;
}

function refuseNearFullRedis(memory: IngressDeps['memory']): void {
  const share = memory?.share();
  if (memory === undefined || share === undefined || share < memory.limit) return;
  throw new FanoutError(
    'REDIS_MEMORY_FULL',
    `Redis uses ${Math.round(share * 100)}% of its maxmemory; new events are refused from ${Math.round(memory.limit * 100)}% (FANOUT_INGEST_MEMORY_LIMIT) so that deliveries in flight can record their outcome; retry later`,
  );
}

/** FANOUT_INGRESS_MAX_BUFFERED's default: 64 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1_048_576;
/** FANOUT_BODY_TIMEOUT's default: 10 s, a 1 MB body at 100 KB/s. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
/** What the ingress answers for a stored event. */
export const acceptedSchema = z.object({ id: z.string().meta({ description: 'The event id: the webhook-id of every delivery, and the key of GET /events/:id.' }) });

export const WEBHOOK_ROUTE = {
  method: 'post',
  path: '/webhooks/:flow',
  tag: 'ingress',
  summary: 'Accepts one webhook for a flow',
  description: "The body is stored byte for byte with its Content-Type (gzip, deflate and br are decoded) and delivered to every destination of the flow. Retry-After comes with every 503.",
  params: { flow: 'The flow name (metadata.name of its DeliveryFlow).' },
  body: { description: "Any bytes of any content type, up to the flow's source.maxBodyBytes; event types are read from a JSON body." },
  responses: {
    202: { description: 'Stored in Redis (and on FANOUT_INGEST_REPLICAS replicas).', json: acceptedSchema },
    200: { description: "A repeated idempotency key within its ttl: nothing stored, the first event's id, and Idempotent-Replayed: true.", json: acceptedSchema },
  },
  errors: ['FLOW_NOT_FOUND', 'SIGNATURE_INVALID', 'BODY_TOO_LARGE', 'REQUEST_INVALID', 'REQUEST_TIMEOUT', 'HEADERS_TOO_LARGE', 'INGRESS_BUSY', 'REDIS_UNAVAILABLE', 'REDIS_TIMEOUT', 'REDIS_MEMORY_FULL', 'REDIS_READONLY', 'REPLICATION_TIMEOUT', 'SHUTTING_DOWN'],
} as const satisfies RouteDoc;

/** `POST /webhooks/:flow`: the ingress as a router, with its own error middleware. It never listens. */
export function buildIngress(deps: IngressDeps): Router {
  const now = deps.now ?? Date.now;
  const acceptDeps = { ...deps, now, replicas: deps.replicas ?? 0, replicaTimeoutMs: deps.replicaTimeoutMs ?? 1_000 };
  const buffered = requestBytes(deps.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  const bodyTimeoutMs = deps.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  // Secrets decoded once per flow's policy: flows are frozen, and a reload brings new objects (their checks made anew, the old ones collected with them).
  const checks = new WeakMap<VerifyPolicy, SignatureCheck>();
  const checkFor = (policy: VerifyPolicy): SignatureCheck => {
    let check = checks.get(policy);
    if (!check) checks.set(policy, (check = signatureCheck(policy)));
    return check;
  };
  const router = Router();

  router.post(WEBHOOK_ROUTE.path, async (req, res) => {
    if (deps.isDraining()) throw new FanoutError('SHUTTING_DOWN', 'this process is shutting down; retry shortly');
    const flow = deps.findFlow(req.params.flow);
    if (!flow) throw new FanoutError('FLOW_NOT_FOUND', `no flow named ${quoted(req.params.flow)} is loaded`);
    refuseNearFullRedis(deps.memory);
    const encoding = contentEncodingOf(req);
    const limits = { maxBytes: flow.source.maxBodyBytes, hold: buffered.holdFor(res), timeoutMs: bodyTimeoutMs, flow: flow.name };
    const raw = await readRawBody(req, res, limits);
    // Before anything is decoded or stored: an unsigned sender costs no decompression and no write.
    const verified = flow.source.verify ? verify(checkFor(flow.source.verify), req, raw, encoding, now()) : {};
    const body = await decodeBody(raw, encoding, limits);
    const keys = idempotencyKeys(flow.source, (name) => req.get(name), body, verified);
    const { id, replayed } = await acceptEvent(acceptDeps, { flow: flow.name, flowVersion: flow.version, contentType: req.get('content-type') ?? '', body, ...(keys && { idempotencyKeys: keys }) });
    // Written directly: res.json() would also hash the body for an ETag nobody asks of a POST answer.
    const json = JSON.stringify({ id } satisfies z.output<typeof acceptedSchema>);
    res.writeHead(replayed ? 200 : 202, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), ...(replayed && { 'Idempotent-Replayed': 'true' }) });
    res.end(json);
  });

  router.use(errorHandler(deps.logger));
  return router;
}

function verify(check: SignatureCheck, req: Request, body: Buffer, encoding: ContentEncoding, now: number): VerifiedRequest {
  try {
    return check({ header: (name) => req.get(name), body, now });
  } catch (error) {
    if (encoding === 'identity' || !(error instanceof FanoutError)) throw error;
    throw new FanoutError(error.code, `${error.message} (signatures are checked over the body as sent, before its ${encoding} Content-Encoding is decoded)`);
  }
}
