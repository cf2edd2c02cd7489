import { DESTINATION_STATES, type DestinationHealth } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { findDestinationQueue } from './lookup.js';

export const destinationStateSchema = z.enum(DESTINATION_STATES).meta({
  description: '`closed`: attempts go out; `open`: the circuit breaker stopped them until its cooldown ends; `half-open`: one probe attempt decides; `paused`: stopped until resumed.',
});

const stateChangeSchema = z.object({
  state: destinationStateSchema.meta({ description: 'Where the destination stands now.' }),
  was: destinationStateSchema.meta({ description: 'Where it stood before the request.' }),
});

const DESTINATION_PATH = '/flows/:flow/destinations/:destination';
const destinationParams = { flow: 'The flow name.', destination: 'The destination name within the flow.' };

export const DESTINATION_STATE_ROUTES = [
  {
    method: 'post',
    path: `${DESTINATION_PATH}/pause`,
    tag: 'admin',
    summary: 'Pauses a destination: it keeps accepting deliveries and sends none',
    description: 'Attempts under way finish; no other starts, in any worker process, and its queue shows paused in Bull Board. Deliveries wait and spend no attempts.',
    params: destinationParams,
    responses: { 200: { description: 'Paused.', json: stateChangeSchema } },
    errors: ['FLOW_NOT_FOUND', 'DESTINATION_NOT_FOUND'],
  },
  {
    method: 'post',
    path: `${DESTINATION_PATH}/resume`,
    tag: 'admin',
    summary: 'Resumes a paused destination: its breaker starts closed',
    description: 'A destination whose circuit breaker is open (not paused) stays open until its probe succeeds.',
    params: destinationParams,
    responses: { 200: { description: 'Where it stands now.', json: stateChangeSchema } },
    errors: ['FLOW_NOT_FOUND', 'DESTINATION_NOT_FOUND'],
  },
] as const satisfies RouteDoc[];

export interface DestinationStateRoutesDeps {
  flows: readonly Flow[];
  queues: Pick<DeliveryQueues, 'get'>;
  health: DestinationHealth;
  logger: Logger;
}

/** `POST …/pause` and `…/resume`: the destination's state, and BullMQ's pause of its queue with it. */
export function destinationStateRoutes({ flows, queues, health, logger }: DestinationStateRoutesDeps): express.Router {
  const router = express.Router();
  const [pause, resume] = DESTINATION_STATE_ROUTES;
  router.post(pause.path, async (req, res) => {
    const { flow, destination } = req.params;
    const queue = findDestinationQueue(flows, queues, flow, destination);
    const was = await health.pause(queue.name, 'operator');
    await queue.pause();
    if (was !== 'paused') logger.warn({ flow, destination, from: was, to: 'paused', reason: 'operator', requester: req.ip }, 'destination.state_changed');
    res.json({ state: 'paused', was } satisfies z.output<typeof stateChangeSchema>);
  });
  router.post(resume.path, async (req, res) => {
    const { flow, destination } = req.params;
    const queue = findDestinationQueue(flows, queues, flow, destination);
    const was = await health.resume(queue.name);
    if (was === 'paused') {
      await queue.resume();
      logger.warn({ flow, destination, from: was, to: 'closed', reason: 'operator', requester: req.ip }, 'destination.state_changed');
    }
    res.json({ state: was === 'paused' ? 'closed' : was, was } satisfies z.output<typeof stateChangeSchema>);
  });
  return router;
}
