import type { DestinationHealth } from '@fanout/delivery';
import type { RouteDoc } from '@fanout/http';
import { deliveryQueueName, type DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { destinationStateSchema } from './destination-state-routes.js';

const count = (description: string) => z.int().min(0).meta({ description });

/** One destination's queue as `GET /status` reports it. */
export const destinationStatusSchema = z.object({
  flow: z.string(),
  destination: z.string(),
  waiting: count('Deliveries waiting for a worker.'),
  active: count('Deliveries with an attempt under way.'),
  delayed: count('Deliveries waiting for their next retry (or their rate limit).'),
  failed: count('Dead letters.'),
  state: destinationStateSchema,
});
export type DestinationStatus = z.output<typeof destinationStatusSchema>;

export const statusSchema = z.object({ destinations: z.array(destinationStatusSchema) });

export const STATUS_ROUTE = {
  method: 'get',
  path: '/status',
  tag: 'admin',
  summary: "Every destination's queue (waiting, active, delayed and failed deliveries) and its state",
  description: 'One request for the whole deployment (what `fanout status` shows), counted from the destination queues in Redis.',
  responses: { 200: { description: 'One entry per destination of every loaded flow.', json: statusSchema } },
} as const satisfies RouteDoc;

export interface StatusRoutesDeps {
  queues: Pick<DeliveryQueues, 'readDepths'>;
  health: Pick<DestinationHealth, 'read'>;
}

/** `GET /status`. */
export function statusRoutes({ queues, health }: StatusRoutesDeps): express.Router {
  const router = express.Router();
  router.get(STATUS_ROUTE.path, async (_req, res) => {
    const destinations = await Promise.all(
      (await queues.readDepths()).map(async ({ flow, destination, waiting, active, delayed, failed }) => ({ flow, destination, waiting, active, delayed, failed, state: (await health.read(deliveryQueueName(flow, destination))).state })),
    );
    res.json({ destinations } satisfies z.output<typeof statusSchema>);
  });
  return router;
}
