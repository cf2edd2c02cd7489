import { parseReplayRate, type Replays } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import type { DeliveryQueues } from '@fanout/queues';
import express from 'express';
import { z } from 'zod';
import { deadLetterPageSchema, listDeadLetters } from './list-dead-letters.js';
import { findDestinationQueue, requireFlow } from './lookup.js';
import { parseRequestInput } from './request-input.js';

/** Largest page of dead letters one request may ask for. */
export const MAX_DEAD_LETTER_PAGE = 500;

/** Most event ids one replay request may name. */
export const MAX_REPLAY_IDS = 1_000;

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50).meta({ description: 'Dead letters per page.' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Dead letters skipped, newest first.' }),
});

/** Longest `reason` and `error` a replay takes. */
export const MAX_REPLAY_TEXT = 1_000;

const replayTime = (bound: string) => z.iso.datetime({ offset: true }).transform((text) => Date.parse(text)).optional().meta({ description: `Dead-lettered ${bound} (ISO 8601).` });

const replayRate = z
  .string()
  .transform((text, context) => {
    try {
      return parseReplayRate(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  })
  .optional()
  .meta({ description: 'Deliveries queued again at most, per second, minute or hour ("50/s", "600/m"); absent: no cap.' });

// Strict, so a misspelt filter is refused rather than read as "replay everything".
const replayBody = z
  .strictObject({
    ids: z.array(z.string().min(1)).max(MAX_REPLAY_IDS).optional().meta({ description: 'Event ids; absent: every dead letter the other filters match.' }),
    from: replayTime('at or after'),
    to: replayTime('at or before'),
    error: z.string().min(1).max(MAX_REPLAY_TEXT).optional().meta({ description: 'A substring of the reason the delivery died.' }),
    dryRun: z.boolean().optional().meta({ description: 'Only count what would be replayed.' }),
    rate: replayRate,
    reason: z.string().max(MAX_REPLAY_TEXT).optional().meta({ description: 'Why, for the audit (GET /replays).' }),
  })
  .refine(({ from, to }) => from === undefined || to === undefined || from <= to, { message: 'must not be before from', path: ['to'] })
  .optional();

const notFound = z.array(z.string()).optional().meta({ description: "With ids: those that were not in the destination's dead letters." });

export const replayDryRunSchema = z.object({ matched: z.int().min(0).meta({ description: 'Dead letters the filters match now.' }), notFound });

export const replayStartedSchema = z.object({
  replay: z.string().meta({ description: 'Its id: progress at GET /replays/{replay}.' }),
  matched: z.int().min(0).meta({ description: 'Dead letters the filters matched; the replay queues them again in the background.' }),
  notFound,
  outOfOrder: z
    .literal(true)
    .optional()
    .meta({ description: 'An ordered destination: the replayed deliveries go after those waiting now, not in their own order.' }),
});

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
    summary: "Replays a destination's dead letters: every one, or those the filters match",
    description:
      'Each goes back to waiting with the same webhook-id and a fresh set of attempts, in the background, oldest first, at most at `rate`; the replay survives a restart and is audited (GET /replays). Any content type is read as JSON.',
    params: destinationParams,
    body: { description: 'No body: every dead letter, at once.', json: replayBody },
    responses: {
      200: { description: 'A dry run: how many would be replayed.', json: replayDryRunSchema },
      202: { description: 'The replay started.', json: replayStartedSchema },
    },
    errors: ['FLOW_NOT_FOUND', 'DESTINATION_NOT_FOUND', 'REQUEST_INVALID'],
  },
] as const satisfies RouteDoc[];

export interface DeadLetterRoutesDeps {
  flows: readonly Flow[];
  queues: Pick<DeliveryQueues, 'get'>;
  replays: Replays;
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
    const { flow, destination } = req.params;
    findDestinationQueue(deps.flows, deps.queues, flow, destination);
    const { ids, from, to, error, dryRun, rate, reason } = parseRequestInput(replayBody, req.body, 'body') ?? {};
    const filter = { ids, from, to, error };
    const withNotFound = (missing: string[]) => (ids === undefined ? {} : { notFound: missing });
    if (dryRun) {
      const { matched, notFound: missing } = await deps.replays.match({ flow, destination, filter });
      res.json({ matched, ...withNotFound(missing) });
      return;
    }
    const requester = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const started = await deps.replays.start({ flow, destination, filter, ratePerSecond: rate, reason, requester });
    const ordered = requireFlow(deps.flows, flow).destinations.some(({ name, ordering }) => name === destination && ordering !== 'none');
    res.status(202).json({ replay: started.replay, matched: started.matched, ...withNotFound(started.notFound), ...(ordered && started.matched > 0 ? { outOfOrder: true } : {}) });
  });
  return router;
}
