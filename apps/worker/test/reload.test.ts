import { afterEach, describe, expect, it } from '@jest/globals';
import type { Flow } from '@fanout/flows';
import { httpDestination, replies, testFlow } from '@fanout/testkit';
import { startHarness, type Harness } from './harness.js';

const retry = { attempts: 20, backoff: { type: 'fixed' as const, delayMs: 100, maxDelayMs: 100, jitter: 'none' as const } };
const shop = (url: string, names: readonly string[], paths: Readonly<Record<string, string>> = {}): Flow =>
  testFlow('shop', names.map((name) => httpDestination({ name, url: `${url}${paths[name] ?? `/${name}`}`, retry })));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function logged(h: Harness, msg: string, queue: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!h.logLines.some((line) => line['msg'] === msg && line['queue'] === queue)) {
    if (Date.now() > deadline) throw new Error(`no ${msg} for ${queue} within ${timeoutMs} ms`);
    await sleep(20);
  }
}

describe('workers across a reload of the flows', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it("a removed destination's worker finishes its queued and retrying deliveries, then retires once its queue stayed empty", async () => {
    h = await startHarness({ flow: (url) => shop(url, ['keep', 'gone']), retire: { checkEveryMs: 100, quietMs: 500 } });
    const gone = h.destination('gone');
    h.receiver.script('/gone', replies.failFirst(3, 503));
    const queued = [await h.publish([gone]), await h.publish([gone]), await h.publish([gone])];
    await h.receiver.waitFor('/gone', 1);
    await h.workers.update([shop(h.receiver.url, ['keep'])]);
    await logged(h, 'worker.destination_retiring', 'shop.gone');
    for (const eventId of queued) expect((await h.waitForRecord(eventId, gone, ({ status }) => status === 'delivered')).status).toBe('delivered');
    await logged(h, 'worker.destination_retired', 'shop.gone');

    // A job made after it retired (a dispatcher far behind, by a version that still had it) waits in its queue, visible, unsent.
    const late = await h.publish([gone]);
    await sleep(1_000);
    expect(await h.queue(gone).getJobState(late)).toBe('waiting');
    expect(h.receiver.requestsTo('/gone').some((request) => request.headers['webhook-id'] === late)).toBe(false);
  }, 20_000);

  it('starts a worker for an added destination, and keeps a removed one that is added back while it drains', async () => {
    h = await startHarness({ flow: (url) => shop(url, ['keep']), retire: { checkEveryMs: 100, quietMs: 60_000 } });
    await h.workers.update([shop(h.receiver.url, ['keep', 'added'])]);
    const added = shop(h.receiver.url, ['keep', 'added']).destinations[1]!;
    const first = await h.publish([added]);
    await h.waitForRecord(first, added, ({ status }) => status === 'delivered');

    await h.workers.update([shop(h.receiver.url, ['keep'])]);
    await logged(h, 'worker.destination_retiring', 'shop.added');
    await h.workers.update([shop(h.receiver.url, ['keep', 'added'])]);
    await logged(h, 'worker.destination_kept', 'shop.added');
    expect(h.logLines.filter((line) => line['msg'] === 'worker.destination_started' && line['queue'] === 'shop.added')).toHaveLength(1);
    const second = await h.publish([added]);
    await h.waitForRecord(second, added, ({ status }) => status === 'delivered');
  }, 20_000);

  it('replaces the worker of a changed destination: the attempt in flight finishes by the old settings, the next goes by the new', async () => {
    h = await startHarness({ flow: (url) => shop(url, ['keep']) });
    const keep = h.destination('keep');
    h.receiver.script('/keep', () => ({ status: 200, delayMs: 800 }));
    const inFlight = await h.publish([keep]);
    await h.receiver.waitFor('/keep', 1);
    await h.workers.update([shop(h.receiver.url, ['keep'], { keep: '/moved' })]);
    const next = await h.publish([keep]);
    await h.waitForRecord(inFlight, keep, ({ status }) => status === 'delivered');
    await h.waitForRecord(next, keep, ({ status }) => status === 'delivered');
    expect(h.receiver.requestsTo('/keep').map((request) => request.headers['webhook-id'])).toEqual([inFlight]);
    expect(h.receiver.requestsTo('/moved').map((request) => request.headers['webhook-id'])).toEqual([next]);
    await logged(h, 'worker.destination_replaced', 'shop.keep');
  }, 20_000);
});
