import type { RouteDoc } from '@fanout/http';
import { WEBHOOK_ROUTE } from '@fanout/ingress';
import { z } from 'zod';

/** Each check of /readyz: `ok`, or why the process cannot serve now. */
const READINESS_CHECKS = z.record(z.string(), z.string()).meta({ description: 'By check (redis, memory, draining, flows): "ok", or why not.' });

/** The routes every process serves whatever its roles (buildHttpApp), described. */
const PROCESS_ROUTES = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'process',
    summary: 'Liveness: the process answers',
    responses: { 200: { description: 'Always, while the process runs.', json: z.object({ status: z.literal('ok') }) } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'process',
    summary: 'Readiness: Redis answers and has room, flows are loaded, the process is not draining',
    responses: {
      200: { description: 'Ready to serve; every check says ok.', json: z.object({ status: z.literal('ready'), checks: READINESS_CHECKS }) },
      503: { description: 'Not ready: the checks that are not ok say why.', json: z.object({ status: z.literal('not ready'), checks: READINESS_CHECKS }) },
    },
  },
  { method: 'get', path: '/metrics', tag: 'process', summary: 'Prometheus metrics', responses: { 200: { description: 'The Prometheus text format.', contentType: 'text/plain' } } },
] as const satisfies RouteDoc[];

/** The routes of the roles other than the dashboard, which the dashboard's GET /openapi.json describes beside its own. */
export const NON_ADMIN_ROUTES: readonly RouteDoc[] = [WEBHOOK_ROUTE, ...PROCESS_ROUTES];
