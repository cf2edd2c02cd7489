import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { parseFlowDocuments, type Flow, type IdempotencyKeyPolicy } from '@fanout/flows';
import { readEventRecord } from '@fanout/delivery';
import { readEvent } from '@fanout/event-log';
import { createRedisFixture, httpDestination, testFlow, type RedisFixture } from '@fanout/testkit';
import { post, startIngress, waitUntil, type Reply, type TestIngress } from './ingress-server.js';

const HOUR = 3_600_000;

function flowWithKey(name: string, idempotencyKey: IdempotencyKeyPolicy): Flow {
  const flow = testFlow(name, [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })]);
  return { ...flow, source: { ...flow.source, idempotencyKey } };
}

/** Loaded as a user writes them: `senders` sets no key (so the senders' ids are the key), `anything` turns it off. */
const fromYaml = (name: string, source: string): Flow =>
  parseFlowDocuments(`apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: ${name} }\nspec:\n  source: { ${source} }\n  destinations: [{ name: orders, type: http, url: "http://127.0.0.1:9/hooks" }]\n`, `${name}.yaml`)[0]!;

const flows = [
  fromYaml('senders', 'maxBodyBytes: 1mb'),
  fromYaml('anything', 'idempotencyKey: false'),
  flowWithKey('payments', { headers: ['Idempotency-Key'], ttlMs: HOUR }),
  flowWithKey('refunds', { headers: ['Idempotency-Key'], ttlMs: HOUR }),
  flowWithKey('orders', { path: ['data', 'id'], ttlMs: HOUR }),
  flowWithKey('short', { headers: ['Idempotency-Key'], ttlMs: 200 }),
];

describe('POST /webhooks/:flow with an idempotency key', () => {
  let fx: RedisFixture;
  let ingress: TestIngress;

  beforeEach(async () => {
    fx = await createRedisFixture();
    ingress = await startIngress({ redis: fx.redis, keys: fx.keys, flows });
  });
  afterEach(async () => {
    await ingress.close();
    await fx.cleanup();
  });

  const storedEvents = (): Promise<number> => fx.redis.xlen(fx.keys.partitions[0]!.stream);
  const withKey = (flow: string, key: string, body = '{}', header = 'Idempotency-Key'): Promise<Reply> =>
    post(ingress.port, `/webhooks/${flow}`, { headers: { 'content-type': 'application/json', [header]: key }, chunks: [Buffer.from(body)] });
  const json = (flow: string, body: string): Promise<Reply> => post(ingress.port, `/webhooks/${flow}`, { headers: { 'content-type': 'application/json' }, chunks: [Buffer.from(body)] });
  const idOf = (reply: Reply): string => reply.json<{ id: string }>().id;

  function expectReplayOf(reply: Reply, firstId: string): void {
    expect(reply.status).toBe(200);
    expect(reply.headers['idempotent-replayed']).toBe('true');
    expect(idOf(reply)).toBe(firstId);
  }

  it('stores a repeated header key once and answers the repeat 200 with the first id, whatever the header case', async () => {
    const first = await withKey('payments', 'pay_1', '{"n":1}');
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    expectReplayOf(await withKey('payments', 'pay_1', '{"n":2}'), idOf(first));
    expectReplayOf(await withKey('payments', 'pay_1', '{"n":3}', 'IDEMPOTENCY-KEY'), idOf(first));

    expect(await storedEvents()).toBe(1);
    const record = await readEventRecord(fx.redis, fx.keys.partitions[0]!, idOf(first));
    expect((await readEvent(fx.redis, fx.keys.partitions[0]!, record!.streamId))?.body.toString()).toBe('{"n":1}');
    expect((await ingress.metrics.eventsAccepted.get()).values.map(({ value }) => value)).toEqual([1]);
  });

  it('keeps each flow to its own keys', async () => {
    const payment = await withKey('payments', 'shared');
    const refund = await withKey('refunds', 'shared');
    expect([payment.status, refund.status]).toEqual([202, 202]);
    expect(idOf(refund)).not.toBe(idOf(payment));
    expect(await storedEvents()).toBe(2);
  });

  it('accepts the key again as a new event once its ttl has passed', async () => {
    const first = await withKey('short', 'once-a-while');
    expect(first.status).toBe(202);
    await waitUntil(async () => (await fx.redis.exists(fx.keys.partitions[0]!.idempotency('short', 'once-a-while'))) === 0, 'the idempotency key to expire');

    const later = await withKey('short', 'once-a-while');
    expect(later.status).toBe(202);
    expect(idOf(later)).not.toBe(idOf(first));
    expect(await storedEvents()).toBe(2);
  });

  it('reads the key from the JSON body at the path, strings and whole numbers alike', async () => {
    const first = await json('orders', '{"data":{"id":"ord_1"},"v":1}');
    expect(first.status).toBe(202);
    expectReplayOf(await json('orders', '{"v":2,"data":{"id":"ord_1"}}'), idOf(first));

    const numbered = await json('orders', '{"data":{"id":7}}');
    expect(numbered.status).toBe(202);
    expectReplayOf(await json('orders', '{"data":{"id":7}}'), idOf(numbered));
    expect(await storedEvents()).toBe(2);
  });

  it('accepts a request without a key as a new event every time', async () => {
    const replies = [
      await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.from('{}')] }),
      await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.from('{}')] }),
      await json('orders', '{"data":{}}'),
      await json('orders', '{"data":{}}'),
      await json('orders', 'not json'),
    ];
    expect(replies.map((reply) => reply.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(replies.map(idOf)).size).toBe(5);
    expect(await storedEvents()).toBe(5);
  });

  it('handles a key longer than 256 bytes, stored under its hash', async () => {
    const key = 'k'.repeat(2_000);
    const first = await withKey('payments', key);
    expect(first.status).toBe(202);
    expectReplayOf(await withKey('payments', key), idOf(first));
    expect(await fx.redis.exists(fx.keys.partitions[0]!.idempotency('payments', key))).toBe(1);
    expect(fx.keys.partitions[0]!.idempotency('payments', key)).not.toContain(key);
  });

  it('stores exactly one of 50 concurrent requests with the same key and answers the others with its id', async () => {
    const replies = await Promise.all(Array.from({ length: 50 }, (_, n) => withKey('payments', 'race', `{"n":${n}}`)));
    const created = replies.filter((reply) => reply.status === 202);
    expect(created).toHaveLength(1);
    const replayed = replies.filter((reply) => reply.status === 200);
    expect(replayed).toHaveLength(49);
    for (const reply of replayed) expectReplayOf(reply, idOf(created[0]!));
    expect(await storedEvents()).toBe(1);
  });

  it("takes a sender's own id as the key when the flow sets none: a Standard Webhooks or GitHub retry is stored once", async () => {
    const first = await withKey('senders', 'msg_2kEfM', '{"n":1}', 'webhook-id');
    expect(first.status).toBe(202);
    expectReplayOf(await withKey('senders', 'msg_2kEfM', '{"n":1}', 'webhook-id'), idOf(first));
    const github = await withKey('senders', '72d3162e-cc78-11e3-81ab-4c9367dc0958', '{}', 'X-GitHub-Delivery');
    expect(github.status).toBe(202);
    expectReplayOf(await withKey('senders', '72d3162e-cc78-11e3-81ab-4c9367dc0958', '{}', 'X-GitHub-Delivery'), idOf(github));
    expect(await storedEvents()).toBe(2);
  });

  it('stores every request as a new event when the flow turns idempotency keys off', async () => {
    expect((await withKey('anything', 'msg_1', '{}', 'webhook-id')).status).toBe(202);
    expect((await withKey('anything', 'msg_1', '{}', 'webhook-id')).status).toBe(202);
    expect(await storedEvents()).toBe(2);
  });
});
