import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import type { DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { deadLetterPageSchema, listDeadLetters } from './list-dead-letters.js';
import { findDestinationQueue, requireFlow } from './lookup.js';
import { replayDeadLetters, replayResultSchema, type ReplayDeps } from './replay-dead-letters.js';
import { parseRequestInput } from './request-input.js';

/** Largest page of dead letters one request may ask for. */
export const MAX_DEAD_LETTER_PAGE = 500;

/** Most event ids one replay request may name. */
export const MAX_REPLAY_IDS = 1_000;

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50).meta({ description: 'Dead letters per page.' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Dead letters skipped, newest first.' }),
});

// Strict, so a misspelt `ids` is refused rather than read as "replay everything".
const replayBody = z.strictObject({ ids: z.array(z.string().min(1)).max(MAX_REPLAY_IDS).optional().meta({ description: 'Event ids; absent: every dead letter.' }) }).optional();

const DEAD_LETTERS_PATH = '/flows/:flow/destinations/:destination/dead-letters';
const destinationParams = { flow: 'The flow name.', destination: 'The destination name within the flow.' };

export const DEAD_LETTER_ROUTES = [
  {
    method: 'get',
    path: DEAD_LETTERS_PATH,
    tag: 'admin',
    summary: "A page of a destination's dead letters, newest first",
    params: destinationParams,
    query: pageQuery,
    responses: { 200: { description: 'The page, with the total and the next offset.', json: deadLetterPageSchema } },
    errors: ['FLOW_NOT_FOUND', 'DESTINATION_NOT_FOUND', 'REQUEST_INVALID'],
  },
  {
    method: 'post',
    path: `${DEAD_LETTERS_PATH}/replay`,
    tag: 'admin',
    summary: "Replays a destination's dead letters: every one, or those of the given event ids",
    description: 'Each goes back to waiting with the same webhook-id and a fresh set of attempts. Any content type is read as JSON.',
    params: destinationParams,
    body: { description: 'No body: every dead letter.', json: replayBody },
    responses: { 202: { description: 'How many were queued again, and the ids that were not dead letters.', json: replayResultSchema } },
    errors: ['FLOW_NOT_FOUND', 'DESTINATION_NOT_FOUND', 'REQUEST_INVALID'],
  },
] as const satisfies RouteDoc[];

export interface DeadLetterRoutesDeps extends ReplayDeps {
  flows: readonly Flow[];
  queues: Pick<DeliveryQueues, 'get'>;
}

/** Listing and replaying the dead letters of one destination. */
export function deadLetterRoutes(deps: DeadLetterRoutesDeps): express.Router {
  const router = express.Router();
  const [list, replay] = DEAD_LETTER_ROUTES;

  router.get(list.path, async (req, res) => {
    const queue = findDestinationQueue(deps.flows, deps.queues, req.params.flow, req.params.destination);
    res.json(await listDeadLetters(queue, parseRequestInput(pageQuery, req.query, 'query')));
  });

  // Any content type is read as JSON: a body sent as text/plain must not be skipped and taken for "replay everything".
  router.post(replay.path, express.json({ type: () => true }), async (req, res) => {
    const queue = findDestinationQueue(deps.flows, deps.queues, req.params.flow, req.params.destination);
    const body = parseRequestInput(replayBody, req.body, 'body');
    const result = await replayDeadLetters(deps, queue, body?.ids);
    const ordered = requireFlow(deps.flows, req.params.flow).destinations.some(({ name, ordering }) => name === req.params.destination && ordering !== 'none');
    res.status(202).json(ordered && result.queued > 0 ? { ...result, outOfOrder: true } : result);
  });
  return router;
}
