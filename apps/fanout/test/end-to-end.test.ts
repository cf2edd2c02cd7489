import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { replies, startReceiver, testRedisUrl, type ScriptedReceiver } from '@fanout/testkit';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

const TOKEN = 'e2e-token';

function flowYaml(receiverUrl: string): string {
  return `
apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: shop }
spec:
  defaults:
    timeout: 2s
    retry: { attempts: 3, backoff: { type: fixed, delay: 50ms, jitter: none } }
  destinations:
    - name: healthy
      type: http
      url: ${receiverUrl}/healthy
    - name: flaky
      type: http
      url: ${receiverUrl}/flaky
      retry: { attempts: 4 }
    - name: broken
      type: http
      url: ${receiverUrl}/broken
    - name: refusing
      type: http
      url: ${receiverUrl}/refusing
    - name: paid-only
      type: http
      url: ${receiverUrl}/paid-only
      filter: { eventTypes: [order.paid] }
`;
}

interface EventView {
  id: string;
  flow: string;
  deliveries: { destination: string; status: string; attempts: number; lastError?: string }[];
}

describe('all roles in one process', () => {
  const EVENTS = 12;
  let receiver: ScriptedReceiver;
  let fanout: FanoutProcess;
  let flowsDir: string;
  let base: string;
  const ids: string[] = [];
  const types = new Map<string, string>();

  beforeAll(async () => {
    receiver = await startReceiver();
    // Every event's first attempt to `flaky` fails with 503, its second succeeds.
    const flakySeen = new Map<string, number>();
    receiver.script('/flaky', (request) => {
      const id = String(request.headers['webhook-id']);
      flakySeen.set(id, (flakySeen.get(id) ?? 0) + 1);
      return { status: flakySeen.get(id) === 1 ? 503 : 200 };
    });
    receiver.script('/broken', replies.status(500));
    receiver.script('/refusing', replies.status(410));
    flowsDir = await mkdtemp(join(tmpdir(), 'fanout-e2e-'));
    await writeFile(join(flowsDir, 'shop.yaml'), flowYaml(receiver.url));
    const config = readConfig({
      REDIS_URL: testRedisUrl(),
      PORT: '0',
      FANOUT_FLOWS: flowsDir,
      FANOUT_ADMIN_TOKEN: TOKEN,
      FANOUT_REDIS_PREFIX: `e2e-${randomUUID().slice(0, 8)}`,
      FANOUT_SHUTDOWN_GRACE: '2s',
    });
    fanout = await startFanoutProcess({ config, logger: createLogger({ level: 'silent' }), env: {} });
    base = `http://127.0.0.1:${fanout.port}`;
  });

  afterAll(async () => {
    await fanout.shutdown();
    await receiver.close();
    await rm(flowsDir, { recursive: true, force: true });
  });

  const admin = { authorization: `Bearer ${TOKEN}` };
  const readEventView = async (id: string): Promise<EventView> => (await (await fetch(`${base}/events/${id}`, { headers: admin })).json()) as EventView;

  it('accepts every event once with 202', async () => {
    for (let i = 0; i < EVENTS; i += 1) {
      const type = i % 2 === 0 ? 'order.paid' : 'order.created';
      const response = await fetch(`${base}/webhooks/shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, n: i }) });
      expect(response.status).toBe(202);
      const { id } = (await response.json()) as { id: string };
      ids.push(id);
      types.set(id, type);
    }
  });

  it('gives every destination exactly what its policy says', async () => {
    const final = new Set(['delivered', 'dead', 'filtered']);
    const views = new Map<string, EventView>();
    const deadline = Date.now() + 30_000;
    while (views.size < ids.length && Date.now() < deadline) {
      for (const id of ids) {
        const view = await readEventView(id);
        if (view.deliveries.length === 5 && view.deliveries.every((d) => final.has(d.status))) views.set(id, view);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(views.size).toBe(EVENTS);

    for (const id of ids) {
      const byDestination = Object.fromEntries(views.get(id)!.deliveries.map((d) => [d.destination, d]));
      expect(byDestination['healthy']).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(byDestination['broken']).toMatchObject({ status: 'dead', attempts: 3, lastError: expect.stringContaining('500') });
      expect(byDestination['refusing']).toMatchObject({ status: 'dead', attempts: 1, lastError: expect.stringContaining('410') });
      expect(byDestination['flaky']).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(byDestination['paid-only']).toMatchObject(types.get(id) === 'order.paid' ? { status: 'delivered', attempts: 1 } : { status: 'filtered', attempts: 0 });
    }

    const webhookIds = (path: string): string[] => receiver.requestsTo(path).map((request) => String(request.headers['webhook-id']));
    expect(new Set(webhookIds('/healthy'))).toEqual(new Set(ids));
    expect(webhookIds('/healthy')).toHaveLength(EVENTS);
    expect(webhookIds('/broken')).toHaveLength(EVENTS * 3);
    expect(webhookIds('/refusing')).toHaveLength(EVENTS);
    expect(new Set(webhookIds('/paid-only'))).toEqual(new Set(ids.filter((id) => types.get(id) === 'order.paid')));
    expect(webhookIds('/flaky')).toHaveLength(EVENTS * 2);
  });

  it('lists the dead letters of a destination and replays them with the same webhook-id', async () => {
    const list = (await (await fetch(`${base}/flows/shop/destinations/refusing/dead-letters?limit=5`, { headers: admin })).json()) as { total: number; items: { eventId: string }[] };
    expect(list.total).toBe(EVENTS);
    expect(list.items).toHaveLength(5);

    receiver.script('/refusing', replies.ok());
    const replayed = ids.slice(0, 2);
    const response = await fetch(`${base}/flows/shop/destinations/refusing/dead-letters/replay`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ ids: replayed }) });
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ matched: 2 });
    const again = await receiver.waitFor('/refusing', EVENTS + 2);
    expect(new Set(again.slice(EVENTS).map((request) => String(request.headers['webhook-id'])))).toEqual(new Set(replayed));
  });

  it('reports accepted events and delivery outcomes on /metrics', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain(`fanout_events_accepted_total{flow="shop"} ${EVENTS}`);
    expect(text).toMatch(/fanout_deliveries_total\{flow="shop",destination="broken",outcome="dead"\} 12/);
    expect(text).toMatch(/fanout_queue_jobs\{flow="shop",destination="broken",state="failed"\} 12/);
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });
});
