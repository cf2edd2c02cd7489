import { DESTINATION_STATES, type DestinationHealth } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueue, DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { findDestinationQueue } from './lookup.js';

export const destinationStateSchema = z.enum(DESTINATION_STATES).meta({
  description: '`closed`: attempts go out; `open`: the circuit breaker stopped them until its cooldown ends; `half-open`: one probe attempt decides; `paused`: stopped until resumed.',
});

export const stateChangeSchema = z.object({
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

type StateChange = z.output<typeof stateChangeSchema>;

/** One destination, as an operator pauses or resumes it. */
export interface OperatedDestination {
  readonly flow: string;
  readonly destination: string;
  readonly queue: DeliveryQueue;
}

/** An operator's pause and resume, from the admin API or Bull Board: the destination's state first, then BullMQ's pause of its queue, and one log line per change. */
export interface DestinationStateControl {
  pause(target: OperatedDestination, requester: string | undefined): Promise<StateChange>;
  resume(target: OperatedDestination, requester: string | undefined): Promise<StateChange>;
}

export function destinationStateControl({ health, logger }: { readonly health: DestinationHealth; readonly logger: Logger }): DestinationStateControl {
  const logged = ({ flow, destination }: OperatedDestination, from: string, to: string, requester: string | undefined) =>
    logger.warn({ flow, destination, from, to, reason: 'operator', ...(requester ? { requester } : {}) }, 'destination.state_changed');
  return {
    async pause(target, requester) {
      const was = await health.pause(target.queue.name, 'operator');
      await target.queue.pause();
      if (was !== 'paused') logged(target, was, 'paused', requester);
      return { state: 'paused', was };
    },
    async resume(target, requester) {
      const was = await health.resume(target.queue.name);
      if (was !== 'paused') return { state: was, was };
      await target.queue.resume();
      logged(target, was, 'closed', requester);
      return { state: 'closed', was };
    },
  };
}

export interface DestinationStateRoutesDeps {
  flows: readonly Flow[];
  queues: Pick<DeliveryQueues, 'get'>;
  control: DestinationStateControl;
}

/** `POST …/pause` and `…/resume`. */
export function destinationStateRoutes({ flows, queues, control }: DestinationStateRoutesDeps): express.Router {
  const router = express.Router();
  const [pause, resume] = DESTINATION_STATE_ROUTES;
  const target = (flow: string, destination: string): OperatedDestination => ({ flow, destination, queue: findDestinationQueue(flows, queues, flow, destination) });
  router.post(pause.path, async (req, res) => {
    res.json(await control.pause(target(req.params.flow, req.params.destination), req.ip));
  });
  router.post(resume.path, async (req, res) => {
    res.json(await control.resume(target(req.params.flow, req.params.destination), req.ip));
  });
  return router;
}
