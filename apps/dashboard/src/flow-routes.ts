import type { DestinationHealth } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import { deliveryQueueName } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { destinationStateSchema } from './destination-state-routes.js';
import { requireFlow } from './lookup.js';
import { maskFlow } from './mask-flow.js';

export interface FlowRoutesDeps {
  flows: readonly Flow[];
  /** Where each destination's state is read. */
  health: Pick<DestinationHealth, 'read'>;
}

/** A loaded flow as the admin API shows it: described loosely, since each destination kind has fields of its own. */
export const flowViewSchema = z
  .object({
    name: z.string(),
    version: z.string().meta({ description: 'The version of its dispatch plan (12 hex digits): an event is dispatched by the version that accepted it.' }),
    source: z.looseObject({ maxBodyBytes: z.int() }),
    destinations: z.array(z.looseObject({ name: z.string(), type: z.string(), state: destinationStateSchema })),
  })
  .meta({ description: 'The flow as loaded: durations in ms, sizes in bytes, spec.defaults merged into each destination, secrets masked as ***.' });

export const flowListSchema = z.object({ items: z.array(flowViewSchema) });

export const FLOW_ROUTES = [
  { method: 'get', path: '/flows', tag: 'admin', summary: 'The loaded flows', responses: { 200: { description: 'Every flow, secrets masked.', json: flowListSchema } } },
  {
    method: 'get',
    path: '/flows/:flow',
    tag: 'admin',
    summary: 'One loaded flow',
    params: { flow: 'The flow name.' },
    responses: { 200: { description: 'The flow, secrets masked.', json: flowViewSchema } },
    errors: ['FLOW_NOT_FOUND'],
  },
] as const satisfies RouteDoc[];

/** `GET /flows` and `GET /flows/:flow`: the loaded flows, secrets masked, each destination with its state. */
export function flowRoutes({ flows, health }: FlowRoutesDeps): express.Router {
  const router = express.Router();
  const [list, one] = FLOW_ROUTES;
  // Masked once: flows are frozen, and a reload builds the dashboard again.
  const masked = flows.map(maskFlow);
  const withStates = async (flow: Flow) => ({
    ...flow,
    destinations: await Promise.all(flow.destinations.map(async (destination) => ({ ...destination, state: (await health.read(deliveryQueueName(flow.name, destination.name))).state }))),
  });
  router.get(list.path, async (_req, res) => {
    res.json({ items: await Promise.all(masked.map(withStates)) });
  });
  router.get(one.path, async (req, res) => {
    res.json(await withStates(requireFlow(masked, req.params.flow)));
  });
  return router;
}
