import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import express from 'express';
import { z } from 'zod';
import { requireFlow } from './lookup.js';
import { maskFlow } from './mask-flow.js';

export interface FlowRoutesDeps {
  flows: readonly Flow[];
}

/** A loaded flow as the admin API shows it: described loosely, since each destination kind has fields of its own. */
export const flowViewSchema = z
  .object({
    name: z.string(),
    version: z.string().meta({ description: 'The version of its dispatch plan (12 hex digits): an event is dispatched by the version that accepted it.' }),
    source: z.looseObject({ maxBodyBytes: z.int() }),
    destinations: z.array(z.looseObject({ name: z.string(), type: z.string() })),
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

/** `GET /flows` and `GET /flows/:flow`: the loaded flows, secrets masked. */
export function flowRoutes({ flows }: FlowRoutesDeps): express.Router {
  const router = express.Router();
  const [list, one] = FLOW_ROUTES;
  // Masked once: flows are frozen, and a reload builds the dashboard again.
  const masked = flows.map(maskFlow);
  router.get(list.path, (_req, res) => {
    res.json({ items: masked });
  });
  router.get(one.path, (req, res) => {
    res.json(requireFlow(masked, req.params.flow));
  });
  return router;
}
