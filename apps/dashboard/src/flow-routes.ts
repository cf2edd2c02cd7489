import type { Flow } from '@fanout/flows';
import express from 'express';
import { requireFlow } from './lookup.js';
import { maskFlow } from './mask-flow.js';

export interface FlowRoutesDeps {
  flows: readonly Flow[];
}

/** `GET /flows` and `GET /flows/:flow`: the loaded flows, secrets masked. */
export function flowRoutes({ flows }: FlowRoutesDeps): express.Router {
  const router = express.Router();
  // Masked once: flows are fixed for the life of the process.
  const masked = flows.map(maskFlow);
  router.get('/flows', (_req, res) => {
    res.json({ items: masked });
  });
  router.get('/flows/:flow', (req, res) => {
    res.json(requireFlow(masked, req.params.flow));
  });
  return router;
}
