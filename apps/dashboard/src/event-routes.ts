import { FanoutError } from '@fanout/core';
import { readAttempts, readEventRecord, type AttemptRecord, type DeliveryRecord, type DeliveryStatus, type FanoutKeys } from '@fanout/redis';
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
  readonly durationMs: number;
  readonly outcome: AttemptRecord['outcome'];
  readonly statusCode?: number;
  readonly error?: string;
}

/** One delivery of an event as the admin API shows it; `attemptLog` only when asked for. */
export interface DeliveryView {
  readonly destination: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly lastError?: string;
  /** ISO 8601. */
  readonly deliveredAt?: string;
  readonly attemptLog?: AttemptView[];
}

function attemptView({ attempt, at, durationMs, outcome, statusCode, error }: AttemptRecord): AttemptView {
  return { attempt, at: isoTime(at), durationMs, outcome, ...(statusCode === undefined ? {} : { statusCode }), ...(error === undefined ? {} : { error }) };
}

function deliveryView({ destination, status, attempts, lastError, deliveredAt }: { destination: string } & DeliveryRecord): DeliveryView {
  return { destination, status, attempts, ...(lastError === undefined ? {} : { lastError }), ...(deliveredAt === undefined ? {} : { deliveredAt: isoTime(deliveredAt) }) };
}

/** `GET /events/:id`: where each delivery of an event stands, optionally with its attempt log. */
export function eventRoutes({ redis, keys }: EventRoutesDeps): express.Router {
  const router = express.Router();
  router.get('/events/:id', async (req, res) => {
    const { attempts } = parseRequestInput(eventQuery, req.query, 'query');
    const record = await readEventRecord(redis, keys, req.params.id);
    if (!record) throw new FanoutError('EVENT_NOT_FOUND', `no event with id "${req.params.id}"`);
    const deliveries = await Promise.all(
      record.deliveries.map(async (delivery): Promise<DeliveryView> => ({
        ...deliveryView(delivery),
        ...(attempts ? { attemptLog: (await readAttempts(redis, keys, record.id, delivery.destination)).map(attemptView) } : {}),
      })),
    );
    res.json({ id: record.id, flow: record.flow, receivedAt: isoTime(record.receivedAt), deliveries });
  });
  return router;
}
