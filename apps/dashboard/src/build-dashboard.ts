import type { DeliveryState } from '@fanout/delivery';
import type { Flow } from '@fanout/flows';
import { errorHandler, openApiDocument, type RouteDoc } from '@fanout/http';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueues } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { requireAdminToken } from './admin-auth.js';
import { BULL_BOARD_PATH, bullBoardHandler } from './bull-board.js';
import { DEAD_LETTER_ROUTES, deadLetterRoutes } from './dead-letter-routes.js';
import { dispatcherDeadLetterRoute, dispatcherDeadLetterRoutes } from './dispatcher-dead-letter-routes.js';
import { EVENT_ROUTE, eventRoutes } from './event-routes.js';
import { FLOW_ROUTES, flowRoutes } from './flow-routes.js';
import { STATUS_ROUTE, statusRoutes } from './status-routes.js';

export interface DashboardDeps {
  /** The loaded flows. */
  flows: readonly Flow[];
  /** The destination queues of those flows; their failed sets are the dead-letter queues. */
  queues: Pick<DeliveryQueues, 'destinations' | 'get' | 'readDepths'>;
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
  return [EVENT_ROUTE, ...FLOW_ROUTES, ...DEAD_LETTER_ROUTES, dispatcherDeadLetterRoute(partitions), STATUS_ROUTE, OPENAPI_ROUTE, BULL_BOARD_ROUTE];
}

/** The paths the dashboard serves, and the only ones its auth guards: the process mounts other routes beside it. */
const DASHBOARD_PATHS = ['/events', '/flows', '/dispatcher', STATUS_ROUTE.path, OPENAPI_ROUTE.path, BULL_BOARD_PATH];

/** The version of the HTTP API the OpenAPI document describes (the DeliveryFlow's fanout.dev/v1). */
const API_VERSION = 'v1';

/**
 * The admin API and Bull Board, behind the admin token, as a router to mount at the root of
 * the process's app (Bull Board's pages assume BULL_BOARD_PATH). Never listens.
 */
export function buildDashboard(deps: DashboardDeps): express.Router {
  const { flows, queues, state, redis, keys, logger, readOnly } = deps;
  const router = express.Router();
  router.use(DASHBOARD_PATHS, requireAdminToken(deps));
  router.use(eventRoutes({ redis, keys }));
  router.use(flowRoutes({ flows }));
  router.use(deadLetterRoutes({ flows, queues, state }));
  router.use(dispatcherDeadLetterRoutes({ redis, keys }));
  router.use(statusRoutes({ queues }));
  const openApi = openApiDocument(
    { title: 'fanout', version: API_VERSION, description: 'Durable webhook fan-out: the webhook ingress, the admin API, health and metrics.' },
    [...(deps.otherRoutes ?? []), ...adminRoutes(keys.partitions.length)],
  );
  router.get(OPENAPI_ROUTE.path, (_req, res) => void res.json(openApi));
  const boardQueues = queues.destinations.map(({ flow, destination }) => ({ queue: queues.get(flow.name, destination.name)!, destination, state, redis, keys }));
  router.use(BULL_BOARD_PATH, bullBoardHandler(boardQueues, { readOnly }));
  router.use(errorHandler(logger));
  return router;
}
