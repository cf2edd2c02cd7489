import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { startReceiver, testRedisUrl, type ReceivedRequest, type ScriptedReceiver } from '@fanout/testkit';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

jest.setTimeout(60_000);

const TOKEN = 'ordering-token';
const EVENTS = 12;
const CUSTOMERS = ['c1', 'c2', 'c3'];
/** How long the receiver takes to answer: c1's key is the slow one. */
const DELAY_MS = 40;
const SLOW_MS = 300;

function flowYaml(receiverUrl: string): string {
  return `
apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: shop }
spec:
  defaults:
    timeout: 2s
    retry: { attempts: 3, backoff: { type: fixed, delay: 700ms, jitter: none } }
  destinations:
    - name: fifo
      type: http
      url: ${receiverUrl}/fifo
      ordering: fifo
    - name: keyed
      type: http
      url: ${receiverUrl}/keyed
      ordering: { key: $.customer }
      concurrency: 2
    - name: gone-first
      type: http
      url: ${receiverUrl}/gone-first
      ordering: fifo
`;
}

interface DeliveryView {
  destination: string;
  status: string;
  attempts: number;
  waitingFor?: string;
}

/** What one request to the receiver was: its event's seq and customer, and when it was in flight. */
interface Attempt {
  readonly seq: number;
  readonly customer: string;
  readonly status: number;
  readonly from: number;
  readonly to: number;
}

/** The most requests in flight at once. */
function mostInFlight(attempts: readonly Attempt[]): number {
  const moments = attempts.flatMap(({ from, to }) => [
    [from, 1],
    [to, -1],
  ]);
  // At one instant, an answer ends before the next request starts.
  moments.sort(([a, da], [b, db]) => a! - b! || da! - db!);
  let current = 0;
  let most = 0;
  for (const [, delta] of moments) most = Math.max(most, (current += delta!));
  return most;
}

/**
 * "In order": for events A before B (of one line), no attempt of B starts before A settled,
 * seen at the destination: B's first request comes after A's last.
 */
function violations(attempts: readonly Attempt[], sameLine: (a: Attempt, b: Attempt) => boolean): string[] {
  const found: string[] = [];
  for (const b of attempts) {
    for (const a of attempts) if (a.seq < b.seq && sameLine(a, b) && a.from > b.from) found.push(`event ${b.seq} attempted at ${b.from} before event ${a.seq}'s attempt at ${a.from}`);
  }
  return found;
}

describe('ordered destinations, across two processes', () => {
  let receiver: ScriptedReceiver;
  let first: FanoutProcess;
  let second: FanoutProcess;
  let flowsDir: string;
  let base: string;
  const ids: string[] = [];
  const attempts = new Map<string, Attempt[]>();
  const admin = { authorization: `Bearer ${TOKEN}` };

  beforeAll(async () => {
    receiver = await startReceiver();
    const seqOf = (request: ReceivedRequest): { seq: number; customer: string } => JSON.parse(request.body.toString()) as { seq: number; customer: string };
    const record = (path: string, answer: (request: ReceivedRequest, seq: number, customer: string) => { status: number; delayMs: number }) =>
      receiver.script(path, (request) => {
        const { seq, customer } = seqOf(request);
        const reply = answer(request, seq, customer);
        const list = attempts.get(path) ?? [];
        list.push({ seq, customer, status: reply.status, from: request.receivedAt, to: request.receivedAt + reply.delayMs });
        attempts.set(path, list);
        return reply;
      });
    // Event 2's first two attempts fail: the events after it must wait for its third.
    const fifoSeen = new Map<number, number>();
    record('/fifo', (_request, seq) => {
      fifoSeen.set(seq, (fifoSeen.get(seq) ?? 0) + 1);
      return { status: seq === 2 && fifoSeen.get(seq)! <= 2 ? 500 : 200, delayMs: DELAY_MS };
    });
    record('/keyed', (_request, _seq, customer) => ({ status: 200, delayMs: customer === 'c1' ? SLOW_MS : DELAY_MS }));
    // Event 0 is refused for good (410): dead at once, it lets the next go.
    record('/gone-first', (_request, seq) => ({ status: seq === 0 && !goneFixed ? 410 : 200, delayMs: 5 }));
    flowsDir = await mkdtemp(join(tmpdir(), 'fanout-ordering-'));
    await writeFile(join(flowsDir, 'shop.yaml'), flowYaml(receiver.url));
    const env = { REDIS_URL: testRedisUrl(), PORT: '0', FANOUT_FLOWS: flowsDir, FANOUT_ADMIN_TOKEN: TOKEN, FANOUT_REDIS_PREFIX: `ordering-${randomUUID().slice(0, 8)}`, FANOUT_SHUTDOWN_GRACE: '2s' };
    first = await startFanoutProcess({ config: readConfig(env), logger: createLogger({ level: 'silent' }), env: {} });
    second = await startFanoutProcess({ config: readConfig({ ...env, FANOUT_ROLES: 'dispatcher,worker' }), logger: createLogger({ level: 'silent' }), env: {} });
    base = `http://127.0.0.1:${first.port}`;
  });
  let goneFixed = false;

  afterAll(async () => {
    await Promise.all([first.shutdown(), second.shutdown()]);
    await receiver.close();
    await rm(flowsDir, { recursive: true, force: true });
  });

  const eventView = async (id: string): Promise<{ deliveries: DeliveryView[] }> => (await (await fetch(`${base}/events/${id}`, { headers: admin })).json()) as { deliveries: DeliveryView[] };
  const delivery = async (id: string, destination: string): Promise<DeliveryView | undefined> => (await eventView(id)).deliveries.find((view) => view.destination === destination);
  async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('accepts the events, one customer after another', async () => {
    for (let seq = 0; seq < EVENTS; seq += 1) {
      const response = await fetch(`${base}/webhooks/shop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq, customer: CUSTOMERS[seq % CUSTOMERS.length] }) });
      expect(response.status).toBe(202);
      ids.push(((await response.json()) as { id: string }).id);
    }
  });

  it('shows a fifo delivery held behind a retrying one as pending, waiting for it', async () => {
    await until('event 2 retrying at fifo', async () => (await delivery(ids[2]!, 'fifo'))?.status === 'retrying');
    expect(await delivery(ids[3]!, 'fifo')).toMatchObject({ status: 'pending', attempts: 0, waitingFor: ids[2] });
    expect(await delivery(ids[2]!, 'fifo')).not.toHaveProperty('waitingFor');
  });

  it('delivers fifo one at a time in ingest order, the retrying event holding back every later one', async () => {
    await until('every event delivered to fifo', async () => (attempts.get('/fifo') ?? []).filter(({ status }) => status === 200).length === EVENTS);
    const fifo = attempts.get('/fifo')!;
    expect(violations(fifo, () => true)).toEqual([]);
    expect(mostInFlight(fifo)).toBe(1);
    expect(fifo.map(({ seq }) => seq)).toEqual([0, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('delivers each key in order, up to concurrency keys at once across both processes, a slow key holding back no other', async () => {
    await until('every event delivered to keyed', async () => (attempts.get('/keyed') ?? []).length === EVENTS);
    const keyed = attempts.get('/keyed')!;
    expect(violations(keyed, (a, b) => a.customer === b.customer)).toEqual([]);
    expect(mostInFlight(keyed)).toBeLessThanOrEqual(2);
    expect(mostInFlight(keyed)).toBe(2);
    // c1 answers in 300 ms, so its four events take 1.2 s: c2's and c3's are done long before.
    const lastOf = (customer: string): number => Math.max(...keyed.filter((attempt) => attempt.customer === customer).map(({ to }) => to));
    expect(lastOf('c2')).toBeLessThan(lastOf('c1'));
    expect(lastOf('c3')).toBeLessThan(lastOf('c1'));
  });

  it('lets the next one go when a delivery is dead-lettered, and says a replay is out of order', async () => {
    await until('every event attempted at gone-first', async () => (attempts.get('/gone-first') ?? []).length === EVENTS);
    expect(await delivery(ids[0]!, 'gone-first')).toMatchObject({ status: 'dead', attempts: 1 });
    expect((attempts.get('/gone-first') ?? []).map(({ seq }) => seq)).toEqual([...Array(EVENTS).keys()]);

    goneFixed = true;
    const response = await fetch(`${base}/flows/shop/destinations/gone-first/dead-letters/replay`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ ids: [ids[0]] }) });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ replay: expect.any(String), matched: 1, notFound: [], outOfOrder: true });
    await until('the replay delivered', async () => (await delivery(ids[0]!, 'gone-first'))?.status === 'delivered');
    expect((attempts.get('/gone-first') ?? []).at(-1)).toMatchObject({ seq: 0, status: 200 });
  });

  it('leaves no line behind once everything is settled', async () => {
    const fifoLast = await delivery(ids[EVENTS - 1]!, 'fifo');
    expect(fifoLast).toMatchObject({ status: 'delivered' });
    const status = (await (await fetch(`${base}/status`, { headers: admin })).json()) as { destinations: { destination: string; waiting: number; delayed: number; active: number }[] };
    for (const destination of status.destinations) expect(destination).toMatchObject({ waiting: 0, delayed: 0, active: 0 });
  });
});
