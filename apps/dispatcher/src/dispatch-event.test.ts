import { describe, expect, it } from '@jest/globals';
import { dispatchPlanOf } from '@fanout/flows';
import type { StreamEvent } from '@fanout/event-log';
import { DELIVERY_JOB_NAME, deliveryJobOptions } from '@fanout/queues';
import { httpDestination, testFlow } from '@fanout/testkit';
import { dispatchEvent, type JobQueue, type QueueLookup } from './dispatch-event.js';
import type { FlowPlans } from './flow-plans.js';

const orders = httpDestination({ name: 'orders', url: 'http://127.0.0.1/orders', filter: { eventTypes: ['payment.succeeded'], path: ['type'] } });
const archive = httpDestination({ name: 'archive', url: 'http://127.0.0.1/archive', retry: { attempts: 7, backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' } } });
const payments = testFlow('payments', [orders, archive]);

/** Queues that are never called: dispatchEvent only plans. */
function queueLookup(...missing: string[]): QueueLookup {
  return {
    get: (flow, destination): JobQueue | undefined =>
      missing.includes(destination) ? undefined : { name: `${flow}.${destination}`, addBulk: () => Promise.reject(new Error('dispatchEvent must not add jobs')) },
  };
}

/** The plans of the flows this test loads: payments only. */
const plans: FlowPlans = { prepare: async () => {}, planFor: ({ flow }) => (flow === payments.name ? dispatchPlanOf(payments) : undefined) };

function streamEvent(body: unknown, flow = 'payments'): StreamEvent {
  return {
    streamId: '1700000000000-0',
    entry: { id: '0190a0b1-0000-7000-8000-000000000001', flow, receivedAt: 1_700_000_000_000, contentType: 'application/json', body: Buffer.from(JSON.stringify(body)) },
  };
}

describe('dispatchEvent', () => {
  it('plans a job per matching destination, and names the destinations whose filter turned the event away', () => {
    const dispatch = dispatchEvent(streamEvent({ type: 'payment.refunded' }), { plans, queues: queueLookup() });
    if (dispatch.kind !== 'dispatch') throw new Error(`expected a dispatch, got ${dispatch.reason}`);
    expect(dispatch.deliveries.map(({ queue, job }) => ({ queue: queue.name, job }))).toEqual([
      {
        queue: 'payments.archive',
        job: {
          name: DELIVERY_JOB_NAME,
          data: { eventId: '0190a0b1-0000-7000-8000-000000000001', streamId: '1700000000000-0', flow: 'payments', destination: 'archive', receivedAt: 1_700_000_000_000 },
          opts: deliveryJobOptions(archive, '0190a0b1-0000-7000-8000-000000000001'),
        },
      },
    ]);
    expect(dispatch.deliveries[0]?.job.opts).toMatchObject({ jobId: '0190a0b1-0000-7000-8000-000000000001', attempts: 7 });
    expect(dispatch.filtered).toEqual(['orders']);
    expect(Object.fromEntries(dispatch.destinations)).toEqual({ archive: 'queued', orders: 'filtered' });
  });

  it('cannot dispatch an event whose flow is not loaded', () => {
    expect(dispatchEvent(streamEvent({}, 'gone'), { plans, queues: queueLookup() })).toMatchObject({
      kind: 'undispatchable',
      streamId: '1700000000000-0',
      flow: 'gone',
      reason: 'flow "gone" is not loaded',
    });
  });

  it('cannot dispatch an event when a matching destination has no queue', () => {
    expect(dispatchEvent(streamEvent({ type: 'payment.succeeded' }), { plans, queues: queueLookup('orders') })).toMatchObject({
      kind: 'undispatchable',
      reason: 'flow "payments" has no queue for destination "orders"',
    });
  });
});
