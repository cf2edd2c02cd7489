import { FanoutError } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import { errorHandler, type RouteDoc } from '@fanout/http';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import type { FanoutKeys } from '@fanout/redis';
import { Router } from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { acceptEvent } from './accept-event.js';
import { readBody } from './body-reader.js';
import { readIdempotencyKey } from './idempotency-key.js';

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
  /** Unix milliseconds stamped as the event's receivedAt. Default `Date.now`. */
  now?: () => number;
  /**
   * Redis replicas that must confirm an event (WAIT) before it is answered 202; when fewer do
   * within `replicaTimeoutMs` the answer is 503 REPLICATION_TIMEOUT. Default 0: the primary's
   * write alone, with no extra round trip.
   */
  readonly replicas?: number;
  /** How long an event waits for its replicas, in milliseconds. Default 1000. */
  readonly replicaTimeoutMs?: number;
}

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
  errors: ['FLOW_NOT_FOUND', 'BODY_TOO_LARGE', 'REQUEST_INVALID', 'REDIS_UNAVAILABLE', 'REPLICATION_TIMEOUT', 'SHUTTING_DOWN'],
} as const satisfies RouteDoc;

/** `POST /webhooks/:flow`: the ingress as a router, with its own error middleware. It never listens. */
export function buildIngress(deps: IngressDeps): Router {
  const acceptDeps = { ...deps, now: deps.now ?? Date.now, replicas: deps.replicas ?? 0, replicaTimeoutMs: deps.replicaTimeoutMs ?? 1_000 };
  const router = Router();

  router.post(WEBHOOK_ROUTE.path, async (req, res) => {
    if (deps.isDraining()) throw new FanoutError('SHUTTING_DOWN', 'this process is shutting down; retry shortly');
    const flow = deps.findFlow(req.params.flow);
    if (!flow) throw new FanoutError('FLOW_NOT_FOUND', `no flow named "${req.params.flow}" is loaded`);
    const body = await readBody(req, res, flow);
    const idempotencyKey = readIdempotencyKey(flow.source.idempotencyKey, (name) => req.get(name), body);
    const { id, replayed } = await acceptEvent(acceptDeps, { flow: flow.name, contentType: req.get('content-type') ?? '', body, ...(idempotencyKey && { idempotencyKey }) });
    // Written directly: res.json() would also hash the body for an ETag nobody asks of a POST answer.
    const json = JSON.stringify({ id } satisfies z.output<typeof acceptedSchema>);
    res.writeHead(replayed ? 200 : 202, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), ...(replayed && { 'Idempotent-Replayed': 'true' }) });
    res.end(json);
  });

  router.use(errorHandler(deps.logger));
  return router;
}
