import { FanoutError, quoted } from '@fanout/core';
import { attemptsOf, readAttempts, readEventRecord, readLastAttempt, reportedStatus, type AttemptRecord, type DeliveryRecord, type ReportedStatus } from '@fanout/delivery';
import type { FanoutKeys, PartitionKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { isoTime } from './iso-time.js';
import { parseRequestInput } from './request-input.js';

export interface EventRoutesDeps {
  redis: Redis;
  keys: FanoutKeys;
}

const eventQuery = z.object({ attempts: z.stringbool().optional() });

/** One attempt as the admin API shows it. */
export interface AttemptView {
  readonly attempt: number;
  /** ISO 8601, when the attempt started. */
  readonly at: string;
  readonly durationMs?: number;
  readonly outcome: AttemptRecord['outcome'];
  readonly statusCode?: number;
  readonly error?: string;
  /** What the destination answered, on the newest attempt. */
  readonly response?: string;
}

/** One delivery of an event as the admin API shows it; `attemptLog` only when asked for. */
export interface DeliveryView {
  readonly destination: string;
  readonly status: ReportedStatus;
  readonly attempts: number;
  readonly lastError?: string;
  /** ISO 8601. */
  readonly deliveredAt?: string;
  readonly attemptLog?: AttemptView[];
}

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

async function deliveryView(redis: Redis, partition: PartitionKeys, eventId: string, delivery: { destination: string } & DeliveryRecord, withLog: boolean): Promise<DeliveryView> {
  const { destination, status, attempts, at } = delivery;
  // One read of the attempt log, and only where there is something to show from it.
  const log = withLog ? await readAttempts(redis, partition, eventId, destination) : undefined;
  const last = log ? log.at(-1) : delivery.error === undefined ? undefined : await readLastAttempt(redis, partition, eventId, destination);
  const error = lastError(delivery, last);
  return {
    destination,
    status: reportedStatus(status),
    attempts,
    ...(error === undefined ? {} : { lastError: error }),
    ...(status === 'delivered' ? { deliveredAt: isoTime(at) } : {}),
    ...(log ? { attemptLog: attemptsOf(delivery, log).map(attemptView) } : {}),
  };
}

/** `GET /events/:id`: where each delivery of an event stands, optionally with its attempt log. */
export function eventRoutes({ redis, keys }: EventRoutesDeps): express.Router {
  const router = express.Router();
  router.get('/events/:id', async (req, res) => {
    const { attempts } = parseRequestInput(eventQuery, req.query, 'query');
    const partition = keys.partitionOf(req.params.id);
    const record = await readEventRecord(redis, partition, req.params.id);
    if (!record) throw new FanoutError('EVENT_NOT_FOUND', `no event with id ${quoted(req.params.id)}`);
    const deliveries = await Promise.all(record.deliveries.map((delivery) => deliveryView(redis, partition, record.id, delivery, attempts === true)));
    res.json({ id: record.id, flow: record.flow, receivedAt: isoTime(record.receivedAt), deliveries });
  });
  return router;
}
