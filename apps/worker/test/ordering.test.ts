import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { HELD_JOB_RECHECK_MS } from '@fanout/delivery';
import { appendEvent } from '@fanout/event-log';
import { deliveryJob, deliveryQueueName, orderLineName } from '@fanout/queues';
import { httpDestination, recordAsDispatched, replies, testFlow } from '@fanout/testkit';
import { isSettled, startHarness, type Harness } from './harness.js';

jest.setTimeout(20_000);

const fifo = (url: string) => httpDestination({ name: 'line', url: `${url}/line`, ordering: 'fifo', concurrency: 1 });
const LINE = orderLineName(deliveryQueueName('shop', 'line'), '');
const seqOf = (body: Buffer): number => (JSON.parse(body.toString()) as { seq: number }).seq;
const body = (seq: number): Buffer => Buffer.from(JSON.stringify({ seq }));

describe('a worker at an ordered destination', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('sends one at a time in order, the later ones held while the first retries', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [fifo(url)]) });
    // The first event fails once: the others wait behind it meanwhile.
    h.receiver.script('/line', replies.failFirst(1, 503));
    const line = h.destination('line');
    const [a, b, c] = [await h.publish([line], body(1)), await h.publish([line], body(2)), await h.publish([line], body(3))];
    expect(await h.queue(line).getJob(b)).toBeUndefined();
    expect(await h.waitForRecord(a, line, isSettled)).toMatchObject({ status: 'delivered', attempts: 2 });
    for (const id of [b, c]) expect(await h.waitForRecord(id, line, isSettled)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(h.receiver.requestsTo('/line').map((request) => seqOf(request.body))).toEqual([1, 1, 2, 3]);
    expect(await h.redis.exists(h.keys.partitionOf(a).line(LINE))).toBe(0);
  });

  it('parks a job of a held delivery (delayed, no attempt), and its line releases it', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [fifo(url)]) });
    h.receiver.script('/line', () => 'hang');
    const line = h.destination('line');
    const a = await h.publish([line], body(1));
    const b = await h.publish([line], body(2));
    await h.receiver.waitFor('/line', 1);
    // b has no job (held); one is added for it as an operator would.
    const queue = h.queue(line);
    const partition = h.keys.partitionOf(b);
    const streamId = (await h.redis.lindex(partition.line(LINE), 1))!.split('|')[1]!;
    const { name, data, opts } = deliveryJob(line, { eventId: b, streamId, flow: 'shop', receivedAt: Date.now(), line: LINE });
    await queue.add(name, data, opts);
    await h.waitForJobState(line, b, 'delayed');
    const parked = await queue.getJob(b);
    expect(parked!.delay).toBeGreaterThan(HELD_JOB_RECHECK_MS / 2);
    expect(parked!.attemptsMade).toBe(0);
    expect(await h.waitForRecord(b, line, () => true)).toMatchObject({ status: 'held', attempts: 0 });
    expect(h.logLines).toContainEqual(expect.objectContaining({ msg: 'delivery.held', eventId: b, waitingFor: a }));
    expect(h.receiver.requestsTo('/line')).toHaveLength(1);

    h.receiver.script('/line', replies.ok());
    await h.waitForRecord(a, line, isSettled, 10_000);
    expect(await h.waitForRecord(b, line, isSettled)).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('sweeps a line whose first delivery lost its job: the sweep makes it, and the line moves on', async () => {
    h = await startHarness({ flow: (url) => testFlow('shop', [fifo(url)]), lineSweep: { everyMs: 100, idleMs: 0 } });
    const line = h.destination('line');
    // Dispatched as a dispatcher would, and its jobs lost with a worker's death.
    const ids: string[] = [];
    for (const seq of [1, 2]) {
      const eventId = newEventId();
      const partition = h.keys.partitionOf(eventId);
      const streamId = await appendEvent(h.redis, partition, { id: eventId, flow: 'shop', receivedAt: Date.now(), contentType: 'application/json', body: body(seq) }, 600_000);
      await recordAsDispatched(h.redis, partition, [{ eventId, flow: 'shop', receivedAt: Date.now(), streamId, destinations: new Map([['line', { line: LINE }]]) }], 600_000, Date.now());
      ids.push(eventId);
    }
    for (const id of ids) await h.waitForRecord(id, line, isSettled);
    expect(h.receiver.requestsTo('/line').map((request) => seqOf(request.body))).toEqual([1, 2]);
  });
});
