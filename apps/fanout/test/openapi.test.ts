import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deliveryState, startReplayer } from '@fanout/delivery';
import { adminRoutes, buildDashboard } from '@fanout/dashboard';
import { parseFlowDocuments } from '@fanout/flows';
import { openApiPath } from '@fanout/http';
import { buildIngress } from '@fanout/ingress';
import { createLogger, createMetrics } from '@fanout/observability';
import { createDeliveryQueues } from '@fanout/queues';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { Express } from 'express';
import { buildHttpApp } from '../src/http-app.js';
import { NON_ADMIN_ROUTES } from '../src/process-routes.js';
import { ADMIN_TOKEN, eventually, shopFlowYaml, startRunningFanout, type RunningFanout } from './running-fanout.js';

type Document = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema?: object }> }> }>> };

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  rawPath?: unknown;
  handle: { stack?: Layer[] };
}

/** Every route an Express app answers: its routes, its routers' routes, and what is mounted under a path (Bull Board) as a GET. */
function mountedRoutes(stack: readonly Layer[], prefix = ''): string[] {
  return stack.flatMap((layer): string[] => {
    if (layer.route) return Object.keys(layer.route.methods).map((method) => `${method} ${prefix}${layer.route!.path}`);
    if (typeof layer.rawPath !== 'string') return [];
    const path = layer.rawPath === '/' ? '' : layer.rawPath;
    if (layer.handle.stack) return mountedRoutes(layer.handle.stack, `${prefix}${path}`);
    return path === '' ? [] : [`get ${prefix}${path}`];
  });
}

describe('GET /openapi.json', () => {
  let fanout: RunningFanout;
  let document: Document;
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };

  beforeAll(async () => {
    fanout = await startRunningFanout();
    const response = await fetch(`${fanout.base}/openapi.json`, { headers: admin });
    expect(response.status).toBe(200);
    document = (await response.json()) as Document;
  });
  afterAll(() => fanout.close());

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'fanout' } });
  });

  it('is an admin route: no token, no document', async () => {
    expect((await fetch(`${fanout.base}/openapi.json`)).status).toBe(401);
  });

  describe('every route the process mounts', () => {
    let fx: RedisFixture;
    let app: Express;

    beforeAll(async () => {
      // The routers of every role, composed the way startFanoutProcess composes them.
      fx = await createRedisFixture();
      const flows = parseFlowDocuments(shopFlowYaml('http://127.0.0.1:9'), 'shop.yaml', {});
      const logger = createLogger({ level: 'silent' });
      const metrics = createMetrics();
      const queues = createDeliveryQueues({ flows, connection: fx.redis, keys: fx.keys });
      const state = deliveryState({ redis: fx.redis, keys: fx.keys, attemptLogTtlMs: 60_000, now: Date.now });
      const ingress = buildIngress({ findFlow: (name) => flows.find((flow) => flow.name === name), redis: fx.redis, keys: fx.keys, metrics, logger, eventRecordTtlMs: 60_000, isDraining: () => false });
      const replays = startReplayer({ redis: fx.redis, keys: fx.keys, queues, state, logger });
      const dashboard = buildDashboard({ flows, queues, state, replays, redis: fx.redis, keys: fx.keys, eventRecordTtlMs: 600_000, logger, adminToken: ADMIN_TOKEN, readOnly: false, otherRoutes: NON_ADMIN_ROUTES });
      app = buildHttpApp({ routers: [ingress, dashboard], metrics, logger, metricsToken: undefined, readiness: () => ({ redis: 'ok' }) });
      await replays.stop();
      await queues.close();
    });
    afterAll(() => fx.cleanup());

    it('is described, and nothing is described that is not mounted', () => {
      const mounted = new Set(mountedRoutes((app as unknown as { router: { stack: Layer[] } }).router.stack).map((route) => route.replace(/ (\S+)$/, (_all, path: string) => ` ${openApiPath(path)}`)));
      const described = new Set(Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`)));
      expect(mounted.size).toBeGreaterThan(10);
      expect([...mounted].sort()).toEqual([...described].sort());
    });

    it('matches adminRoutes for the process', () => {
      const adminPaths = adminRoutes(1).map((route) => `${route.method} ${openApiPath(route.path)}`);
      for (const route of adminPaths) expect(Object.keys(document.paths[route.split(' ')[1]!] ?? {})).toContain(route.split(' ')[0]);
    });
  });

  describe('answers', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addFormat('date-time', (value: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)));

    /** Calls a route and checks its answer against the schema the document gives for that status. */
    async function answersAsDocumented(method: 'get' | 'post', path: string, template: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
      const response = await fetch(`${fanout.base}${path}`, { method: method.toUpperCase(), ...init, headers: { ...admin, ...(init.headers as Record<string, string> | undefined) } });
      const body: unknown = await response.json();
      const schema = document.paths[template]?.[method]?.responses[String(response.status)]?.content?.['application/json']?.schema;
      expect({ route: `${method} ${template}`, status: response.status, documented: schema !== undefined }).toEqual({ route: `${method} ${template}`, status: response.status, documented: true });
      const validate = ajv.compile(schema!);
      expect({ route: `${method} ${template} ${response.status}`, errors: validate(body) ? [] : validate.errors }).toEqual({ route: `${method} ${template} ${response.status}`, errors: [] });
      return { status: response.status, body };
    }

    it('match the documented schemas, successes and errors alike', async () => {
      const sent = await answersAsDocumented('post', '/webhooks/shop', '/webhooks/{flow}', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'payment.succeeded' }) });
      expect(sent.status).toBe(202);
      const id = (sent.body as { id: string }).id;
      await answersAsDocumented('post', '/webhooks/nope', '/webhooks/{flow}', { body: 'x' });
      await eventually(
        () => fetch(`${fanout.base}/events/${id}`, { headers: admin }).then((response) => response.json() as Promise<{ deliveries: { status: string }[] }>),
        (event) => event.deliveries.length === 2 && event.deliveries.every((delivery) => delivery.status === 'delivered' || delivery.status === 'dead'),
      );
      await answersAsDocumented('get', `/events/${id}`, '/events/{id}');
      await answersAsDocumented('get', `/events/${id}?attempts=true`, '/events/{id}');
      await answersAsDocumented('get', '/events/no-such-event', '/events/{id}');
      await answersAsDocumented('get', '/events/x?attempts=maybe', '/events/{id}');
      await answersAsDocumented('get', '/flows', '/flows');
      await answersAsDocumented('get', '/flows/shop', '/flows/{flow}');
      await answersAsDocumented('get', '/flows/nope', '/flows/{flow}');
      await answersAsDocumented('get', '/flows/shop/destinations/gone/dead-letters', '/flows/{flow}/destinations/{destination}/dead-letters');
      await answersAsDocumented('get', '/flows/shop/destinations/nope/dead-letters', '/flows/{flow}/destinations/{destination}/dead-letters');
      await answersAsDocumented('get', '/status', '/status');
      await answersAsDocumented('get', '/dispatcher/dead-letters', '/dispatcher/dead-letters');
      await answersAsDocumented('get', '/healthz', '/healthz');
      await answersAsDocumented('get', '/readyz', '/readyz');
      const replay = await answersAsDocumented('post', '/flows/shop/destinations/gone/dead-letters/replay', '/flows/{flow}/destinations/{destination}/dead-letters/replay', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ids: [id, 'unknown'] }),
      });
      expect(replay).toEqual({ status: 202, body: { replay: expect.any(String), matched: 1, notFound: ['unknown'] } });
      const dryRun = await answersAsDocumented('post', '/flows/shop/destinations/gone/dead-letters/replay', '/flows/{flow}/destinations/{destination}/dead-letters/replay', { body: '{"dryRun": true, "error": "410"}' });
      expect(dryRun.status).toBe(200);
      await answersAsDocumented('post', '/flows/shop/destinations/gone/dead-letters/replay', '/flows/{flow}/destinations/{destination}/dead-letters/replay', { body: '{"rate": "fast"}' });
      const { replay: replayId } = replay.body as { replay: string };
      await answersAsDocumented('get', `/replays/${replayId}`, '/replays/{replay}');
      await answersAsDocumented('get', '/replays/nope', '/replays/{replay}');
      await answersAsDocumented('get', '/replays', '/replays');
      await answersAsDocumented('get', '/replays?limit=-1', '/replays');
      await answersAsDocumented('post', '/flows/shop/destinations/gone/dead-letters/replay', '/flows/{flow}/destinations/{destination}/dead-letters/replay', { body: '{"idz": []}' });
    });
  });
});
