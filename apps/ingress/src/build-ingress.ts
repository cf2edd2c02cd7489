import { FanoutError } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import { errorHandler } from '@fanout/http';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import type { FanoutKeys } from '@fanout/redis';
import { Router } from 'express';
import type { Redis } from 'ioredis';
import { acceptEvent } from './accept-event.js';
import { createBodyReader } from './body-reader.js';

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
}

/** `POST /webhooks/:flow`: the ingress as a router, with its own error middleware. It never listens. */
export function buildIngress(deps: IngressDeps): Router {
  const acceptDeps = { ...deps, now: deps.now ?? Date.now };
  const readBody = createBodyReader();
  const router = Router();

  router.post('/webhooks/:flow', async (req, res) => {
    if (deps.isDraining()) throw new FanoutError('SHUTTING_DOWN', 'this process is shutting down; retry shortly');
    const flow = deps.findFlow(req.params.flow);
    if (!flow) throw new FanoutError('FLOW_NOT_FOUND', `no flow named "${req.params.flow}" is loaded`);
    const body = await readBody(req, res, flow);
    const id = await acceptEvent(acceptDeps, { flow: flow.name, contentType: req.get('content-type') ?? '', body });
    res.status(202).json({ id });
  });

  router.use(errorHandler(deps.logger));
  return router;
}
