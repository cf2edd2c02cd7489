import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createConfigMapVolume, startReceiver, testRedisUrl, type ScriptedReceiver } from '@fanout/testkit';
import { eventually } from './running-fanout.js';
import { runFanout } from './run-fanout.js';

const TOKEN = 'hot-reload-token';
const admin = { authorization: `Bearer ${TOKEN}` };

/** Flow `name` with one http destination per name, each posting to `<receiver>/<destination>`. */
function flowYaml(name: string, destinations: readonly string[], receiverUrl: string): string {
  return [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    `metadata: { name: ${name} }`,
    'spec:',
    '  defaults:',
    '    timeout: 2s',
    '    retry: { attempts: 30, backoff: { type: fixed, delay: 200ms, jitter: none } }',
    '  destinations:',
    ...destinations.map((destination) => `    - { name: ${destination}, type: http, url: "${receiverUrl}/${destination}" }`),
    '',
  ].join('\n');
}

interface EventView {
  readonly deliveries: readonly { destination: string; status: string }[];
}

describe('hot reload of flows (fanout start as a process)', () => {
  let receiver: ScriptedReceiver;
  let dir: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    dir = await mkdtemp(join(tmpdir(), 'fanout-hot-reload-'));
  });
  afterAll(async () => {
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  const env = (flows: string, extra: Record<string, string> = {}): Record<string, string> => ({
    FANOUT_FLOWS: flows,
    REDIS_URL: testRedisUrl(),
    FANOUT_ADMIN_TOKEN: TOKEN,
    FANOUT_REDIS_PREFIX: `reload-${randomUUID().slice(0, 8)}`,
    FANOUT_SHUTDOWN_GRACE: '1s',
    LOG_LEVEL: 'info',
    ...extra,
  });
  const send = async (base: string, flow: string, body: unknown): Promise<{ status: number; id?: string }> => {
    const response = await fetch(`${base}/webhooks/${flow}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, ...((await response.json()) as { id?: string }) };
  };
  const destinationsInForce = async (base: string, flow: string): Promise<string[]> => {
    const response = await fetch(`${base}/flows/${flow}`, { headers: admin });
    return response.ok ? ((await response.json()) as { destinations: { name: string }[] }).destinations.map(({ name }) => name) : [];
  };
  const eventView = async (base: string, id: string): Promise<EventView> => (await (await fetch(`${base}/events/${id}`, { headers: admin })).json()) as EventView;
  const receivedBy = (destination: string, id: string): number => receiver.requestsTo(`/${destination}`).filter((request) => request.headers['webhook-id'] === id).length;

  it('follows a ConfigMap volume through its symlink swaps: adds, refuses a broken file, removes (finishing the removed destination\'s deliveries), drops a removed file', async () => {
    const url = receiver.url;
    const files = (shop: string, extra = true): Record<string, string> => ({ 'shop.yaml': shop, ...(extra ? { 'extra.yaml': flowYaml('extra', ['x1'], url) } : {}) });
    const volume = await createConfigMapVolume(join(dir, 'configmap'), files(flowYaml('shop', ['a1'], url)));
    // The poll is a minute away: what is seen within seconds is fs.watch's doing.
    const run = await runFanout(env(volume.path, { FANOUT_FLOWS_POLL: '60s' }), async (base, running) => {
      const first = await send(base, 'shop', { n: 1 });
      expect(first.status).toBe(202);
      await receiver.waitFor('/a1', 1);

      // 1. A destination added.
      const addedAt = Date.now();
      await volume.update(files(flowYaml('shop', ['a1', 'b1'], url)));
      await eventually(() => destinationsInForce(base, 'shop'), (names) => names.includes('b1'), 15_000);
      const tookMs = Date.now() - addedAt;
      const second = await send(base, 'shop', { n: 2 });
      await eventually(async () => (await eventView(base, second.id!)).deliveries.map(({ status }) => status), (statuses) => statuses.length === 2 && statuses.every((status) => status === 'delivered'));
      expect(receivedBy('b1', first.id!)).toBe(0);
      expect(receivedBy('b1', second.id!)).toBe(1);

      // 2. A file that does not load: refused with its line, the flows in force stay.
      await volume.update(files(flowYaml('shop', ['a1', 'b1'], url).replace('type: http, url:', 'type: http, urll:')));
      await eventually(async () => running.stdout(), (out) => out.includes('flows.reload_refused'), 15_000);
      const refusal = running.stdout().split('\n').find((line) => line.includes('flows.reload_refused'))!;
      expect(refusal).toMatch(/shop\.yaml document 1: spec\.destinations\[0\]/);
      const third = await send(base, 'shop', { n: 3 });
      await eventually(async () => (await eventView(base, third.id!)).deliveries.filter(({ status }) => status === 'delivered').length, (count) => count === 2);

      // 3. A destination removed while one of its deliveries is retrying: it is still delivered there.
      receiver.script('/b1', () => ({ status: 503 }));
      const fourth = await send(base, 'shop', { n: 4 });
      await receiver.waitFor('/b1', receiver.requestsTo('/b1').length + 1);
      await volume.update(files(flowYaml('shop', ['a1'], url)));
      await eventually(() => destinationsInForce(base, 'shop'), (names) => !names.includes('b1'), 15_000);
      const fifth = await send(base, 'shop', { n: 5 });
      receiver.script('/b1', () => ({ status: 200 }));
      await eventually(async () => (await eventView(base, fourth.id!)).deliveries.find(({ destination }) => destination === 'b1')?.status, (status) => status === 'delivered');
      await eventually(async () => (await eventView(base, fifth.id!)).deliveries, (deliveries) => deliveries.length === 1 && deliveries[0]!.status === 'delivered');
      expect(receivedBy('b1', fifth.id!)).toBe(0);

      // 4. A file removed: its flow goes.
      expect((await send(base, 'extra', { n: 6 })).status).toBe(202);
      await volume.update(files(flowYaml('shop', ['a1'], url), false));
      await eventually(() => send(base, 'extra', { n: 7 }), ({ status }) => status === 404, 15_000);
      // "Within a few seconds": about one on an idle machine (fs.watch, 250 ms debounce); the bound leaves room for a starved one.
      expect(tookMs).toBeLessThan(10_000);
    });
    expect(run.code).toBe(0);
    const reloaded = run.stdout.split('\n').filter((line) => line.includes('"flows.reloaded"'));
    // Added b1, removed b1, removed extra: three reloads applied; the broken file none.
    expect(reloaded).toHaveLength(3);
    expect(JSON.parse(reloaded[0]!)).toMatchObject({ trigger: 'files changed', changed: ['shop'], added: [], removed: [] });
    expect(JSON.parse(reloaded[2]!)).toMatchObject({ removed: ['extra'] });
    expect(run.stdout).toContain('"worker.destination_retiring"');
  }, 90_000);

  it('reloads on SIGHUP, and only then when FANOUT_FLOWS_WATCH=false', async () => {
    const file = join(dir, 'sighup.yaml');
    await writeFile(file, flowYaml('hup', ['a1'], receiver.url));
    const run = await runFanout(env(file, { FANOUT_FLOWS_WATCH: 'false' }), async (base, running) => {
      await writeFile(file, flowYaml('hup', ['a1', 'b1'], receiver.url));
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(await destinationsInForce(base, 'hup')).toEqual(['a1']);
      running.child.kill('SIGHUP');
      await eventually(() => destinationsInForce(base, 'hup'), (names) => names.includes('b1'), 15_000);
      // Counted once the new destination's worker is up, a moment after the flows swapped.
      const metrics = await eventually(async () => (await fetch(`${base}/metrics`)).text(), (text) => /fanout_flow_reloads_total\{outcome="applied"\} 1/.test(text), 15_000);
      expect(metrics).toMatch(/fanout_flow_info\{flow="hup",version="[0-9a-f]{12}"\} 1/);
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"trigger":"SIGHUP"');
  }, 60_000);
});
