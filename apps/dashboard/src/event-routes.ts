import { FanoutError, quoted } from '@fanout/core';
import { ATTEMPT_OUTCOMES, attemptsOf, readAttempts, readEventRecord, readLastAttempt, REPORTED_STATUSES, reportedStatus, type AttemptRecord, type DeliveryRecord, type EventRecord } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import type { RouteDoc } from '@fanout/http';
import type { FanoutKeys, PartitionKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isoTime, isoTimeSchema } from './iso-time.js';
import { parseRequestInput } from './request-input.js';
import { waitingFor } from './waiting-for.js';

export interface EventRoutesDeps {
  redis: Redis;
  keys: FanoutKeys;
  /** The loaded flows: which of an event's destinations are ordered, and how. */
  flows: readonly Flow[];
}

const eventQuery = z.object({ attempts: z.stringbool().optional().meta({ description: "`true` adds each delivery's attempt log." }) });

/** One attempt as the admin API shows it. */
export const attemptViewSchema = z.object({
  attempt: z.int().min(1),
  at: isoTimeSchema.meta({ description: 'When the attempt started.' }),
  durationMs: z.number().min(0).optional(),
  outcome: z.enum(ATTEMPT_OUTCOMES).meta({ description: '`interrupted`: cut short by a crash or a shutdown.' }),
  statusCode: z.int().optional(),
  error: z.string().optional(),
  response: z.string().optional().meta({ description: 'The start of what the destination answered, on the newest attempt.' }),
});
export type AttemptView = z.output<typeof attemptViewSchema>;

/** One delivery of an event as the admin API shows it; `attemptLog` only when asked for. */
export const deliveryViewSchema = z.object({
  destination: z.string(),
  status: z.enum(REPORTED_STATUSES).meta({ description: '`pending` also while an attempt is under way.' }),
  attempts: z.int().min(0),
  lastError: z.string().optional().meta({ description: 'The reason, with what the destination last answered.' }),
  waitingFor: z.string().optional().meta({ description: 'A delivery of an ordered destination held back: the event whose delivery comes first in its line, where known.' }),
  deliveredAt: isoTimeSchema.optional(),
  attemptLog: z.array(attemptViewSchema).optional(),
});
export type DeliveryView = z.output<typeof deliveryViewSchema>;

/** `GET /events/:id`'s answer. */
export const eventViewSchema = z.object({ id: z.string(), flow: z.string(), receivedAt: isoTimeSchema, deliveries: z.array(deliveryViewSchema) });
export type EventView = z.output<typeof eventViewSchema>;

export const EVENT_ROUTE = {
  method: 'get',
  path: '/events/:id',
  tag: 'admin',
  summary: 'Where each delivery of an event stands',
  params: { id: 'The event id POST /webhooks/:flow answered with.' },
  query: eventQuery,
  responses: { 200: { description: "The event and each destination's delivery.", json: eventViewSchema } },
  errors: ['EVENT_NOT_FOUND', 'REQUEST_INVALID'],
} as const satisfies RouteDoc;

function attemptView({ attempt, at, durationMs, outcome, statusCode, error, response }: AttemptRecord): AttemptView {
  return {
    attempt,
    at: isoTime(at),
    ...(durationMs === undefined ? {} : { durationMs }),
    outcome,
    ...(statusCode === undefined ? {} : { statusCode }),
    ...(error === undefined ? {} : { error }),
    ...(response === undefined ? {} : { response }),
  };
}

/** The record's error with what the destination last said, as one line. */
function lastError(record: DeliveryRecord, last: AttemptRecord | undefined): string | undefined {
  if (record.error === undefined || record.status === 'delivered') return undefined;
  return last?.response ? `${record.error}: ${last.response}` : record.error;
}

async function deliveryView(redis: Redis, partition: PartitionKeys, event: EventRecord, flow: Flow | undefined, delivery: { destination: string } & DeliveryRecord, withLog: boolean): Promise<DeliveryView> {
  const { destination, status, attempts, at } = delivery;
  const eventId = event.id;
  // One read of the attempt log, and only where there is something to show from it.
  const log = withLog ? await readAttempts(redis, partition, eventId, destination) : undefined;
  const last = log ? log.at(-1) : delivery.error === undefined ? undefined : await readLastAttempt(redis, partition, eventId, destination);
  const error = lastError(delivery, last);
  const ordered = status === 'held' ? flow?.destinations.find(({ name }) => name === destination) : undefined;
  const before = ordered ? await waitingFor(redis, partition, { flow: event.flow, destination: ordered, eventId, streamId: event.streamId }) : undefined;
  return {
    destination,
    status: reportedStatus(status),
    attempts,
    ...(error === undefined ? {} : { lastError: error }),
    ...(before === undefined ? {} : { waitingFor: before }),
    ...(status === 'delivered' ? { deliveredAt: isoTime(at) } : {}),
    ...(log ? { attemptLog: attemptsOf(delivery, log).map(attemptView) } : {}),
  };
}

/** `GET /events/:id`: where each delivery of an event stands, optionally with its attempt log. */
export function eventRoutes({ redis, keys, flows }: EventRoutesDeps): express.Router {
  const router = express.Router();
  router.get(EVENT_ROUTE.path, async (req, res) => {
    const { attempts } = parseRequestInput(eventQuery, req.query, 'query');
    const partition = keys.partitionOf(req.params.id);
    const record = await readEventRecord(redis, partition, req.params.id);
    if (!record) throw new FanoutError('EVENT_NOT_FOUND', `no event with id ${quoted(req.params.id)}`);
    const flow = flows.find(({ name }) => name === record.flow);
    const deliveries = await Promise.all(record.deliveries.map((delivery) => deliveryView(redis, partition, record, flow, delivery, attempts === true)));
    res.json({ id: record.id, flow: record.flow, receivedAt: isoTime(record.receivedAt), deliveries } satisfies EventView);
  });
  return router;
}
