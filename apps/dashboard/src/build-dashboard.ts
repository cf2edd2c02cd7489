import { FanoutError } from '@fanout/core';
import { destinationHealth, type DeliveryState, type Replays } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import { canonicalPath, errorHandler, isUnder, openApiDocument, requireToken, type RouteDoc } from '@fanout/http';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueues } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import express, { type RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { BULL_BOARD_PATH, bullBoardHandler } from './bull-board.js';
import { DEAD_LETTER_ROUTES, deadLetterRoutes } from './dead-letter-routes.js';
import { DESTINATION_STATE_ROUTES, destinationStateControl, destinationStateRoutes } from './destination-state-routes.js';
import { DISPATCHER_REPLAY_ROUTE, dispatcherDeadLetterRoute, dispatcherDeadLetterRoutes } from './dispatcher-dead-letter-routes.js';
import { EVENT_ROUTE, eventRoutes } from './event-routes.js';
import { FLOW_ROUTES, flowRoutes } from './flow-routes.js';
import { REPLAY_ROUTES, replayRoutes } from './replay-routes.js';
import { destinationTarget } from './mask-flow.js';
import { STATUS_ROUTE, statusRoutes } from './status-routes.js';

export interface DashboardDeps {
  /** The loaded flows. */
  flows: readonly Flow[];
  /** The destination queues of those flows; their failed sets are the dead-letter queues. */
  queues: Pick<DeliveryQueues, 'destinations' | 'get' | 'readDepths'>;
  /** Bull Board's actions go through the delivery's transitions. */
  state: DeliveryState;
  /** Replays of dead letters (the admin API's): run in the background, audited. */
  replays: Replays;
  /** Event and delivery records are read through this connection, and destinations paused and resumed (it runs DELIVERY_SCRIPTS). */
  redis: Redis;
  keys: FanoutKeys;
  /** How long event records are kept (FANOUT_EVENT_RETENTION), ms: a replayed dispatcher dead letter's record is kept that long. */
  eventRecordTtlMs: number;
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
  /** The other roles' routes (the ingress, health and metrics), described in GET /openapi.json beside the admin API. Default none. */
  otherRoutes?: readonly RouteDoc[];
}

const OPENAPI_ROUTE = {
  method: 'get',
  path: '/openapi.json',
  tag: 'admin',
  summary: 'This OpenAPI document',
  responses: { 200: { description: 'OpenAPI 3.1: every route of every role, generated from the schemas the routes validate with.', contentType: 'application/json' } },
} as const satisfies RouteDoc;

const BULL_BOARD_ROUTE = {
  method: 'get',
  path: BULL_BOARD_PATH,
  tag: 'admin',
  summary: 'Bull Board: one queue per destination',
  description: `Its pages, assets and its own API are served under ${BULL_BOARD_PATH}/; a browser sends the token as the password of HTTP Basic.`,
  responses: { 200: { description: 'The Bull Board page.', contentType: 'text/html' } },
} as const satisfies RouteDoc;

/** Every route the dashboard serves, described; the dispatcher dead letters' query depends on the event log's partitions. */
export function adminRoutes(partitions: number): RouteDoc[] {
  return [EVENT_ROUTE, ...FLOW_ROUTES, ...DEAD_LETTER_ROUTES, ...REPLAY_ROUTES, ...DESTINATION_STATE_ROUTES, dispatcherDeadLetterRoute(partitions), DISPATCHER_REPLAY_ROUTE, STATUS_ROUTE, OPENAPI_ROUTE, BULL_BOARD_ROUTE];
}

/** The version of the HTTP API the OpenAPI document describes (the DeliveryFlow's fanout.dev/v1). */
const API_VERSION = 'v1';

/**
 * Where the dashboard serves, and what its auth guards: these paths and everything under them,
 * however a request spells them. The process mounts other routes beside it.
 */
const ADMIN_PATHS = ['/events', '/flows', '/replays', '/dispatcher', '/admin', STATUS_ROUTE.path, OPENAPI_ROUTE.path];

/**
 * The admin token in front of every admin path, whatever its spelling: case, `//`, `.` and
 * `..` segments, percent-encoding (see canonicalPath), and any method, HEAD and OPTIONS
 * included. Express would route `/FLOWS` to `/flows`, and the guard must cover at least what
 * routing reaches. A path that does not decode is refused with 400 before anything routes it.
 * Past the token, while Redis does not answer, an admin path is answered 503 at once.
 */
function guardAdminPaths(deps: Pick<DashboardDeps, 'adminToken' | 'logger'>, redisReachable: () => boolean): RequestHandler {
  const requireAdminToken = requireToken({ token: deps.adminToken, name: 'admin token', variable: 'FANOUT_ADMIN_TOKEN', guards: 'the admin API and the dashboard', logger: deps.logger });
  return (req, res, next) => {
    const path = canonicalPath(req.path);
    if (path === undefined) return next(new FanoutError('REQUEST_INVALID', 'the path is not valid percent-encoded UTF-8'));
    if (!ADMIN_PATHS.some((prefix) => isUnder(path, prefix))) return next();
    requireAdminToken(req, res, (error?: unknown) => {
      if (error) return next(error);
      next(redisReachable() ? undefined : new FanoutError('REDIS_UNAVAILABLE', 'Redis does not answer; the admin API and Bull Board need it'));
    });
  };
}

/**
 * The admin API and Bull Board, behind the admin token, as a router to mount at the root of
 * the process's app (Bull Board's pages assume BULL_BOARD_PATH). Never listens.
 */
export function buildDashboard(deps: DashboardDeps): express.Router {
  const { flows, queues, state, replays, redis, keys, eventRecordTtlMs, logger, readOnly, redisReachable = () => true } = deps;
  const router = express.Router();
  router.use(guardAdminPaths(deps, redisReachable));
  const health = destinationHealth({ redis, keys, now: Date.now });
  router.use(eventRoutes({ redis, keys, flows }));
  router.use(flowRoutes({ flows, health }));
  router.use(deadLetterRoutes({ flows, queues, replays }));
  router.use(replayRoutes({ replays }));
  const control = destinationStateControl({ health, logger });
  router.use(destinationStateRoutes({ flows, queues, control }));
  router.use(dispatcherDeadLetterRoutes({ redis, keys, flows, eventRecordTtlMs }));
  router.use(statusRoutes({ queues, health }));
  const openApi = openApiDocument(
    { title: 'fanout', version: API_VERSION, description: 'Durable webhook fan-out: the webhook ingress, the admin API, health and metrics.' },
    [...(deps.otherRoutes ?? []), ...adminRoutes(keys.partitions.length)],
  );
  router.get(OPENAPI_ROUTE.path, (_req, res) => void res.json(openApi));
  const boardQueues = queues.destinations.map(({ flow, destination }) => ({ flow: flow.name, queue: queues.get(flow.name, destination.name)!, destination, target: destinationTarget(destination, flow.envTemplates), state, redis, keys }));
  router.use(BULL_BOARD_PATH, bullBoardHandler(boardQueues, { readOnly, control }));
  router.use(errorHandler(logger));
  return router;
}
