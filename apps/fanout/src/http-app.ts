import { canonicalPath, errorHandler, notFoundHandler, requireToken } from '@fanout/http';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import express, { type Express, type Router } from 'express';

export interface HttpAppDeps {
  /** The routers of this process's roles (ingress, dashboard), mounted in order. */
  routers: readonly Router[];
  metrics: FanoutMetrics;
  logger: Logger;
  /** Each check of readiness: `ok`, or why the process cannot serve now. */
  readiness(): Readonly<Record<string, string>>;
  /** FANOUT_METRICS_TOKEN: what /metrics asks for, however its path is spelled. Undefined: /metrics is open. */
  metricsToken: string | undefined;
}

/** The one HTTP app of a process: its roles' routes plus /healthz, /readyz and /metrics, whatever the roles. */
export function buildHttpApp({ routers, metrics, logger, readiness, metricsToken }: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  if (metricsToken) {
    // The metrics list every flow and destination name; kept behind their own token so a scraper needs no admin token.
    const requireMetricsToken = requireToken({ token: metricsToken, name: 'metrics token', variable: 'FANOUT_METRICS_TOKEN', guards: '/metrics', logger });
    app.use((req, res, next) => (canonicalPath(req.path) === '/metrics' ? requireMetricsToken(req, res, next) : next()));
  }
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', (_req, res) => {
    const checks = readiness();
    const ready = Object.values(checks).every((check) => check === 'ok');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  for (const router of routers) app.use(router);
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
