import { readDispatchDeadLetters, type DispatchDeadLetter } from '@fanout/event-log';
import type { FanoutKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { MAX_DEAD_LETTER_PAGE } from './dead-letter-routes.js';
import { isoTime } from './iso-time.js';
import { parseRequestInput } from './request-input.js';

// A cursor rather than an offset: the dead letters are a stream, read by id; an offset would cost as many entries as it skips.
const pageQuery = (partitions: number) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_PAGE).default(50),
    cursor: z.string().regex(/^\d+-\d+$/, 'expected a nextCursor from a previous page').optional(),
    // Each partition of the event log has dead letters of its own.
    partition: z.coerce.number().int().min(0).max(partitions - 1).default(0),
  });

/** One dispatcher dead letter as the admin API lists it. */
export interface DispatcherDeadLetterView {
  readonly id: string;
  /** The event stream entry the dispatcher gave up on. */
  readonly streamId: string;
  readonly reason: string;
  /** How often the entry was read or claimed by dispatchers. */
  readonly deliveryCount: number;
  /** ISO 8601. */
  readonly deadLetteredAt: string;
  /** The entry's fields but its body, as stored (`id`, `flow`, `receivedAt`, `contentType` for a well-formed one). */
  readonly entry: Readonly<Record<string, string>>;
  /** The size of the stored body; null when the entry had none. */
  readonly bodyBytes: number | null;
}

function view({ id, streamId, reason, deliveryCount, deadLetteredAt, fields, body }: DispatchDeadLetter): DispatcherDeadLetterView {
  return { id, streamId, reason, deliveryCount, deadLetteredAt: isoTime(deadLetteredAt), entry: fields, bodyBytes: body?.length ?? null };
}

export interface DispatcherDeadLetterRoutesDeps {
  redis: Redis;
  keys: FanoutKeys;
}

/** `GET /dispatcher/dead-letters`: the stream entries the dispatcher gave up on, newest first (of one partition, `?partition=n`, 0 by default). */
export function dispatcherDeadLetterRoutes({ redis, keys }: DispatcherDeadLetterRoutesDeps): express.Router {
  const router = express.Router();
  const query = pageQuery(keys.partitions.length);
  router.get('/dispatcher/dead-letters', async (req, res) => {
    const { limit, cursor, partition } = parseRequestInput(query, req.query, 'query');
    const page = await readDispatchDeadLetters(redis, keys.partitions[partition]!, { limit, ...(cursor === undefined ? {} : { cursor }) });
    res.json({ items: page.items.map(view), total: page.total, limit, nextCursor: page.nextCursor });
  });
  return router;
}
