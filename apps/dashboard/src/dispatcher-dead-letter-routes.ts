import { readDispatchDeadLetters, type DispatchDeadLetter } from '@fanout/event-log';
import type { RouteDoc } from '@fanout/http';
import express from 'express';
import { z } from 'zod';
import { MAX_DEAD_LETTER_PAGE, MAX_REPLAY_IDS } from './dead-letter-routes.js';
import { isoTime, isoTimeSchema } from './iso-time.js';
import { dispatcherReplayResultSchema, replayDispatcherDeadLetters, type DispatcherReplayDeps } from './replay-dispatcher-dead-letters.js';
import { parseRequestInput } from './request-input.js';

// A cursor rather than an offset: the dead letters are a stream, read by id; an offset would cost as many entries as it skips.
const pageQuery = (partitions: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50).meta({ description: 'Dead letters per page.' }),
    cursor: z.string().regex(/^\d+-\d+$/, 'expected a nextCursor from a previous page').optional().meta({ description: 'The nextCursor of the previous page.' }),
    // Each partition of the event log has dead letters of its own.
    partition: z.coerce.number().int().min(0).max(partitions - 1).default(0).meta({ description: 'The event log partition.' }),
  });

/** One dispatcher dead letter as the admin API lists it. */
export const dispatcherDeadLetterSchema = z.object({
  id: z.string(),
  streamId: z.string().meta({ description: 'The event stream entry the dispatcher gave up on.' }),
  reason: z.string(),
  deliveryCount: z.int().min(0).meta({ description: 'How often the entry was read or claimed by dispatchers.' }),
  deadLetteredAt: isoTimeSchema,
  entry: z.record(z.string(), z.string()).meta({ description: 'The entry\'s fields but its body, as stored (`id`, `flow`, `receivedAt`, `contentType` for a well-formed one).' }),
  bodyBytes: z.int().min(0).nullable().meta({ description: 'The size of the stored body; null when the entry had none.' }),
});
export type DispatcherDeadLetterView = z.output<typeof dispatcherDeadLetterSchema>;

const dispatcherDeadLetterPageSchema = z.object({
  items: z.array(dispatcherDeadLetterSchema),
  total: z.int().min(0),
  limit: z.int(),
  nextCursor: z.string().nullable().meta({ description: 'Where the next page starts; null on the last one.' }),
});

/** The route's description; its query depends on how many partitions the event log has. */
export function dispatcherDeadLetterRoute(partitions: number) {
  return {
    method: 'get',
    path: '/dispatcher/dead-letters',
    tag: 'admin',
    summary: 'The event stream entries the dispatcher gave up on, newest first',
    query: pageQuery(partitions),
    responses: { 200: { description: 'A page of one partition.', json: dispatcherDeadLetterPageSchema } },
    errors: ['REQUEST_INVALID'],
  } as const satisfies RouteDoc;
}

// Strict, so a misspelt `ids` is refused rather than read as "replay everything".
const replayBody = z
  .strictObject({ ids: z.array(z.string().regex(/^\d+-\d+$/, 'expected a dispatcher dead letter id, as GET /dispatcher/dead-letters lists it')).max(MAX_REPLAY_IDS).optional().meta({ description: 'Dispatcher dead letter ids (their `id`); absent: every one, of every partition.' }) })
  .optional();

export const DISPATCHER_REPLAY_ROUTE = {
  method: 'post',
  path: '/dispatcher/dead-letters/replay',
  tag: 'admin',
  summary: 'Replays dispatcher dead letters: every one, or those of the given ids',
  description: 'An entry whose flow is loaded again goes back on the event stream and is dispatched (same event id); one still undeliverable stays, with its reason. Any content type is read as JSON.',
  body: { description: 'No body: every dispatcher dead letter.', json: replayBody },
  responses: { 202: { description: 'How many go to be dispatched again, which stay and why, and the ids not found.', json: dispatcherReplayResultSchema } },
  errors: ['REQUEST_INVALID'],
} as const satisfies RouteDoc;

function view({ id, streamId, reason, deliveryCount, deadLetteredAt, fields, body }: DispatchDeadLetter): DispatcherDeadLetterView {
  return { id, streamId, reason, deliveryCount, deadLetteredAt: isoTime(deadLetteredAt), entry: fields, bodyBytes: body?.length ?? null };
}

export type DispatcherDeadLetterRoutesDeps = DispatcherReplayDeps;

/**
 * `GET /dispatcher/dead-letters`: the stream entries the dispatcher gave up on, newest first
 * (of one partition, `?partition=n`, 0 by default); `POST /dispatcher/dead-letters/replay`.
 */
export function dispatcherDeadLetterRoutes(deps: DispatcherDeadLetterRoutesDeps): express.Router {
  const { redis, keys } = deps;
  const router = express.Router();
  const route = dispatcherDeadLetterRoute(keys.partitions.length);
  router.get(route.path, async (req, res) => {
    const { limit, cursor, partition } = parseRequestInput(route.query, req.query, 'query');
    const page = await readDispatchDeadLetters(redis, keys.partitions[partition]!, { limit, ...(cursor === undefined ? {} : { cursor }) });
    res.json({ items: page.items.map(view), total: page.total, limit, nextCursor: page.nextCursor });
  });
  // Any content type is read as JSON: a body sent as text/plain must not be skipped and taken for "replay everything".
  router.post(DISPATCHER_REPLAY_ROUTE.path, express.json({ type: () => true }), async (req, res) => {
    const body = parseRequestInput(replayBody, req.body, 'body');
    res.status(202).json(await replayDispatcherDeadLetters(deps, body?.ids));
  });
  return router;
}
