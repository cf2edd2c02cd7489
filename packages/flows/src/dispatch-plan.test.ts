import { describe, expect, it } from '@jest/globals';
import { decodeDispatchPlan, dispatchPlanOf, encodeDispatchPlan } from './dispatch-plan.js';
import { resolveFlow } from './resolve-flow.js';
import { deliveryFlowSchema } from './schema.js';

const flow = resolveFlow(
  deliveryFlowSchema.parse({
    apiVersion: 'fanout.dev/v1',
    kind: 'DeliveryFlow',
    metadata: { name: 'payments' },
    spec: {
      destinations: [
        { name: 'orders', type: 'http', url: 'https://orders.example.com/hook', ordering: 'fifo' },
        { name: 'archive', type: 's3', bucket: 'events', batch: { maxEvents: 10 } },
        { name: 'bus', type: 'amqp', url: 'amqp://rabbit', routingKey: 'payments', ordering: { key: '$.customer.id' } },
        { name: 'js', type: 'nats', url: 'nats://nats:4222', subject: 'payments.created', filter: { eventTypes: ['payment.created'] } },
      ],
    },
  }),
);

describe('a dispatch plan', () => {
  it('says of each destination, of every kind, what dispatching needs: its filter, its ordering, its jobs’ options', () => {
    const plan = dispatchPlanOf(flow);
    expect(plan.destinations.map(({ name, type, ordering }) => [name, type, ordering])).toEqual([
      ['orders', 'http', 'fifo'],
      ['archive', 's3', 'none'],
      ['bus', 'amqp', { key: ['customer', 'id'] }],
      ['js', 'nats', 'none'],
    ]);
    expect(JSON.stringify(plan)).not.toContain('orders.example.com');
  });

  it('reads back as another process stored it, version and all', () => {
    const plan = dispatchPlanOf(flow);
    expect(decodeDispatchPlan(encodeDispatchPlan(plan))).toEqual(plan);
    expect(flow.version).toBe(plan.version);
  });
});
