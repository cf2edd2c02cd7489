import { FanoutError } from '@fanout/core';
import type { DeliveryState } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import { errorHandler } from '@fanout/http';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueues } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { requireAdminToken } from './admin-auth.js';
import { BULL_BOARD_PATH, bullBoardHandler } from './bull-board.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { dispatcherDeadLetterRoutes } from './dispatcher-dead-letter-routes.js';
import { eventRoutes } from './event-routes.js';
import { flowRoutes } from './flow-routes.js';

export interface DashboardDeps {
  /** The loaded flows. */
  flows: readonly Flow[];
  /** The destination queues of those flows; their failed sets are the dead-letter queues. */
  queues: Pick<DeliveryQueues, 'destinations' | 'get'>;
  /** Replays (from the admin API and from Bull Board) go through the delivery's transitions. */
  state: DeliveryState;
  /** Event and delivery records are read through this connection. */
  redis: Redis;
  keys: FanoutKeys;
  logger: Logger;
  /** FANOUT_ADMIN_TOKEN. Undefined or empty: every request to the dashboard's paths is answered 401. */
  adminToken: string | undefined;
  /** FANOUT_DASHBOARD_READONLY: Bull Board shows everything and changes nothing. */
  readOnly: boolean;
  /**
   * Whether Redis answers (the process's health probe). While it does not, every dashboard
   * path answers 503 REDIS_UNAVAILABLE at once instead of waiting for Redis. Default: always.
   */
  redisReachable?: () => boolean;
}

/** The paths the dashboard serves, and the only ones its auth guards: the process mounts other routes beside it. */
const DASHBOARD_PATHS = ['/events', '/flows', '/dispatcher', BULL_BOARD_PATH];

/**
 * The admin API and Bull Board, behind the admin token, as a router to mount at the root of
 * the process's app (Bull Board's pages assume BULL_BOARD_PATH). Never listens.
 */
export function buildDashboard(deps: DashboardDeps): express.Router {
  const { flows, queues, state, redis, keys, logger, readOnly, redisReachable = () => true } = deps;
  const router = express.Router();
  router.use(DASHBOARD_PATHS, requireAdminToken(deps));
  router.use(DASHBOARD_PATHS, (_req, _res, next) => next(redisReachable() ? undefined : new FanoutError('REDIS_UNAVAILABLE', 'Redis does not answer; the admin API and Bull Board need it')));
  router.use(eventRoutes({ redis, keys }));
  router.use(flowRoutes({ flows }));
  router.use(deadLetterRoutes({ flows, queues, state }));
  router.use(dispatcherDeadLetterRoutes({ redis, keys }));
  const boardQueues = queues.destinations.map(({ flow, destination }) => ({ queue: queues.get(flow.name, destination.name)!, destination, state, redis, keys }));
  router.use(BULL_BOARD_PATH, bullBoardHandler(boardQueues, { readOnly }));
  router.use(errorHandler(logger));
  return router;
}
