import type { Flow } from '@fanout/flows';
import type { DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { listDeadLetters } from './list-dead-letters.js';
import { findDestinationQueue } from './lookup.js';
import { replayDeadLetters, type ReplayDeps } from './replay-dead-letters.js';
import { parseRequestInput } from './request-input.js';

/** Largest page of dead letters one request may ask for. */
export const MAX_DEAD_LETTER_PAGE = 500;

/** Most event ids one replay request may name. */
export const MAX_REPLAY_IDS = 1_000;

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

// Strict, so a misspelt `ids` is refused rather than read as "replay everything".
const replayBody = z.strictObject({ ids: z.array(z.string().min(1)).max(MAX_REPLAY_IDS).optional() }).optional();

export interface DeadLetterRoutesDeps extends ReplayDeps {
  flows: readonly Flow[];
  queues: Pick<DeliveryQueues, 'get'>;
}

/** Listing and replaying the dead letters of one destination. */
export function deadLetterRoutes(deps: DeadLetterRoutesDeps): express.Router {
  const router = express.Router();
  const path = '/flows/:flow/destinations/:destination/dead-letters';

  router.get(path, async (req, res) => {
    const queue = findDestinationQueue(deps.flows, deps.queues, req.params.flow, req.params.destination);
    res.json(await listDeadLetters(queue, parseRequestInput(pageQuery, req.query, 'query')));
  });

  // Any content type is read as JSON: a body sent as text/plain must not be skipped and taken for "replay everything".
  router.post(`${path}/replay`, express.json({ type: () => true }), async (req, res) => {
    const queue = findDestinationQueue(deps.flows, deps.queues, req.params.flow, req.params.destination);
    const body = parseRequestInput(replayBody, req.body, 'body');
    res.status(202).json(await replayDeadLetters(deps, queue, body?.ids));
  });
  return router;
}
