import { afterEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { readEventRecord } from '@fanout/delivery';
import { appendEvent, readDispatchDeadLetters } from '@fanout/event-log';
import { publishFlowPlans, type Flow } from '@fanout/flows';
import { httpDestination, testFlow } from '@fanout/testkit';
import { createHarness, EVENT_RECORD_TTL_MS, jobCount, waitFor, type Harness } from './harness.js';

const destination = (name: string) => httpDestination({ name, url: `http://127.0.0.1:1/${name}` });
/** The flow as the old version of a rolling deploy has it, and as the new one does: one destination more. */
const oldPayments = testFlow('payments', [destination('orders')]);
const newPayments = testFlow('payments', [destination('orders'), destination('ledger')]);
/** A flow only the new version has. */
const ui = testFlow('ui', [destination('audit')]);

describe('flow versions across processes (a rolling deploy)', () => {
  let h: Harness;
  afterEach(() => h.close());

  /** Appends an event as the ingress of a process that loaded `flow` does: stamped with its version. */
  async function acceptedBy(flow: Flow): Promise<string> {
    const id = newEventId();
    await appendEvent(h.fx.redis, h.partition, { id, flow: flow.name, receivedAt: Date.now(), contentType: 'application/json', flowVersion: flow.version, body: Buffer.from('{"type":"a"}') }, EVENT_RECORD_TTL_MS);
    return id;
  }
  const destinationsOf = async (eventId: string): Promise<string[]> => ((await readEventRecord(h.fx.redis, h.partition, eventId))?.deliveries ?? []).map(({ destination: name }) => name);

  it('dispatches an event to the destinations of the version that accepted it, whichever the dispatcher loaded', async () => {
    expect(oldPayments.version).not.toBe(newPayments.version);
    // An old dispatcher; the new processes published their flows' plans when they started.
    h = await createHarness([oldPayments]);
    await publishFlowPlans(h.fx.redis, h.keys, [newPayments, ui], EVENT_RECORD_TTL_MS);
    const old = await acceptedBy(oldPayments);
    const fresh = await acceptedBy(newPayments);
    const newFlow = await acceptedBy(ui);
    await h.start();

    await waitFor('every event dispatched', async () => (await h.pendingCount()) === 0 && (await jobCount(h.queues, 'ui', 'audit')) === 1);
    expect(await destinationsOf(old)).toEqual(['orders']);
    expect(await destinationsOf(fresh)).toEqual(['ledger', 'orders']);
    expect(await destinationsOf(newFlow)).toEqual(['audit']);
    // Jobs in queues this process serves no worker for: the new processes' workers take them.
    expect((await h.queues.queueFor('payments', 'ledger').getJob(fresh))?.data).toMatchObject({ eventId: fresh, destination: 'ledger' });
    expect(await h.queues.queueFor('payments', 'ledger').getJob(old)).toBeUndefined();
    expect(await jobCount(h.queues, 'payments', 'orders')).toBe(2);
  });

  it('dispatches an event of the old version by its plan once the dispatchers run the new one', async () => {
    h = await createHarness([newPayments]);
    await publishFlowPlans(h.fx.redis, h.keys, [oldPayments], EVENT_RECORD_TTL_MS);
    const old = await acceptedBy(oldPayments);
    const fresh = await acceptedBy(newPayments);
    await h.start();

    await waitFor('both dispatched', async () => (await h.pendingCount()) === 0 && (await jobCount(h.queues, 'payments', 'orders')) === 2);
    expect(await destinationsOf(old)).toEqual(['orders']);
    expect(await destinationsOf(fresh)).toEqual(['ledger', 'orders']);
  });

  it('dead-letters, with its reason, an event whose version no process published', async () => {
    h = await createHarness([newPayments]);
    const orphan = await acceptedBy(oldPayments);
    await h.start();

    await waitFor('the entry dead-lettered', async () => (await h.pendingCount()) === 0 && (await h.fx.redis.xlen(h.partition.dispatchDeadLetters)) === 1);
    const { items } = await readDispatchDeadLetters(h.fx.redis, h.partition, { limit: 10 });
    expect(items[0]).toMatchObject({ reason: `flow "payments" version ${oldPayments.version} is neither loaded here nor published by the process that accepted it`, fields: { id: orphan } });
  });
});
