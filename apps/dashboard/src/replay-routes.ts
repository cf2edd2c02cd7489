import { FanoutError, quoted } from '@fanout/core';
import type { Replays } from '@fanout/delivery';
import type { RouteDoc } from '@fanout/http';
import express from 'express';
import { z } from 'zod';
import { MAX_DEAD_LETTER_PAGE } from './dead-letter-routes.js';
import { replayView, replayViewSchema } from './replay-view.js';
import { parseRequestInput } from './request-input.js';

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50).meta({ description: 'Replays per page.' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Replays skipped, newest first.' }),
});

const replayPageSchema = z.object({
  items: z.array(replayViewSchema),
  total: z.int().min(0),
  limit: z.int(),
  offset: z.int(),
  nextOffset: z.int().nullable().meta({ description: 'The offset of the next page; null on the last one.' }),
});

export const REPLAY_ROUTES = [
  {
    method: 'get',
    path: '/replays',
    tag: 'admin',
    summary: 'The audit of every replay of dead letters, newest first',
    description: 'When each was asked for, its filters, reason, counts and who asked (the client address).',
    query: pageQuery,
    responses: { 200: { description: 'A page of replays.', json: replayPageSchema } },
    errors: ['REQUEST_INVALID'],
  },
  {
    method: 'get',
    path: '/replays/:replay',
    tag: 'admin',
    summary: 'One replay: its progress and its audit record',
    params: { replay: 'The id a replay request answered.' },
    responses: { 200: { description: 'The replay.', json: replayViewSchema } },
    errors: ['REPLAY_NOT_FOUND'],
  },
] as const satisfies RouteDoc[];

/** `GET /replays` and `GET /replays/:replay`. */
export function replayRoutes({ replays }: { replays: Replays }): express.Router {
  const router = express.Router();
  const [list, one] = REPLAY_ROUTES;
  router.get(list.path, async (req, res) => {
    const { limit, offset } = parseRequestInput(pageQuery, req.query, 'query');
    const { items, total } = await replays.list({ limit, offset });
    const end = offset + items.length;
    res.json({ items: items.map(replayView), total, limit, offset, nextOffset: items.length > 0 && end < total ? end : null });
  });
  router.get(one.path, async (req, res) => {
    const replay = await replays.get(req.params.replay);
    if (!replay) throw new FanoutError('REPLAY_NOT_FOUND', `no replay ${quoted(req.params.replay)} was asked for`);
    res.json(replayView(replay));
  });
  return router;
}
