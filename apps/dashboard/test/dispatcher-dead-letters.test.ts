import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendEvent, deadLetterEntries, ensureDispatcherGroup, readNewEvents } from '@fanout/event-log';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flow = testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' })]);
const path = '/dispatcher/dead-letters';

interface Page {
  items: { id: string; streamId: string; reason: string; deliveryCount: number; deadLetteredAt: string; entry: Record<string, string>; bodyBytes: number | null }[];
  total: number;
  limit: number;
  nextCursor: string | null;
}

describe('GET /dispatcher/dead-letters', () => {
  let harness: DashboardHarness;
  beforeEach(async () => {
    harness = await startDashboard({ flows: [flow] });
  });
  afterEach(() => harness.close());

  /** Stores `count` events of a flow no longer loaded and dead-letters them as the dispatcher does, oldest first. */
  async function deadLetter(count: number): Promise<string[]> {
    const { redis, keys } = harness.fx;
    const partition = keys.partitions[0]!;
    await ensureDispatcherGroup(redis, partition);
    const streamIds: string[] = [];
    for (let i = 0; i < count; i++) {
      streamIds.push(await appendEvent(redis, partition, { id: `event-${i}`, flow: 'gone', receivedAt: Date.UTC(2025, 0, 1), contentType: 'application/json', body: Buffer.from(`{"n":${i}}`) }, 60_000));
    }
    await readNewEvents(redis, partition, 'dispatcher-a', count, 10);
    for (const streamId of streamIds) await deadLetterEntries(redis, partition, [{ streamId, reason: 'flow "gone" is not loaded', deliveryCount: 1 }], Date.UTC(2025, 0, 2));
    return streamIds;
  }

  it('lists the entries the dispatcher gave up on, newest first, with the reason, the count, the time and the stored fields', async () => {
    const [streamId] = await deadLetter(1);
    const response = await adminRequest(`${harness.url}${path}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      items: [
        {
          id: expect.stringMatching(/^\d+-\d+$/),
          streamId,
          reason: 'flow "gone" is not loaded',
          deliveryCount: 1,
          deadLetteredAt: '2025-01-02T00:00:00.000Z',
          entry: { id: 'event-0', flow: 'gone', receivedAt: String(Date.UTC(2025, 0, 1)), contentType: 'application/json' },
          bodyBytes: 7,
        },
      ],
      total: 1,
      limit: 50,
      nextCursor: null,
    });
  });

  it('pages with nextCursor until null', async () => {
    const streamIds = await deadLetter(5);
    const pages: Page[] = [];
    let url = `${harness.url}${path}?limit=2`;
    for (;;) {
      const page = (await adminRequest(url)).body as Page;
      pages.push(page);
      if (page.nextCursor === null) break;
      url = `${harness.url}${path}?limit=2&cursor=${page.nextCursor}`;
    }
    expect(pages.map(({ items, total, limit }) => ({ size: items.length, total, limit }))).toEqual([
      { size: 2, total: 5, limit: 2 },
      { size: 2, total: 5, limit: 2 },
      { size: 1, total: 5, limit: 2 },
    ]);
    expect(pages.flatMap(({ items }) => items.map((item) => item.streamId))).toEqual([...streamIds].reverse());
  });

  it('answers an empty page when there are none', async () => {
    expect((await adminRequest(`${harness.url}${path}`)).body).toEqual({ items: [], total: 0, limit: 50, nextCursor: null });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['cursor=abc', 'cursor'],
    ['partition=1', 'partition'],
  ])('answers 400 REQUEST_INVALID naming the parameter for %s', async (query, parameter) => {
    const response = await adminRequest(`${harness.url}${path}?${query}`);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'REQUEST_INVALID', message: expect.stringMatching(new RegExp(`^${parameter}: `)) } });
  });
});
