import type { RouteDoc } from '@fanout/http';
import { WEBHOOK_ROUTE } from '@fanout/ingress';
import { z } from 'zod';

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
    summary: 'Readiness: Redis answers and flows are loaded',
    responses: {
      200: { description: 'Ready to serve.', json: z.object({ status: z.literal('ready') }) },
      503: { description: 'Not ready: Redis does not answer.', json: z.object({ status: z.literal('not ready') }) },
    },
  },
  { method: 'get', path: '/metrics', tag: 'process', summary: 'Prometheus metrics', responses: { 200: { description: 'The Prometheus text format.', contentType: 'text/plain' } } },
] as const satisfies RouteDoc[];

/** The routes of the roles other than the dashboard, which the dashboard's GET /openapi.json describes beside its own. */
export const NON_ADMIN_ROUTES: readonly RouteDoc[] = [WEBHOOK_ROUTE, ...PROCESS_ROUTES];
