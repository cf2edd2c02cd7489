import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createAmqpKind, type DeliveryAttempt, type DestinationKind } from '@fanout/destinations';
import type { AmqpDestination } from '@fanout/flows';
import { amqpDestination, connectRabbitMq, RABBITMQ_URL, startTcpProxy, uniqueName } from '@fanout/testkit';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';

describe('the amqp kind, against RabbitMQ', () => {
  let broker: ChannelModel;
  let channel: Channel;
  let kind: DestinationKind<AmqpDestination>;
  const queues: string[] = [];
  const exchanges: string[] = [];
  beforeAll(async () => {
    broker = await connectRabbitMq();
    channel = await broker.createChannel();
    kind = createAmqpKind();
  });
  afterAll(async () => {
    await kind.close();
    for (const queue of queues) await channel.deleteQueue(queue);
    for (const exchange of exchanges) await channel.deleteExchange(exchange);
    await broker.close();
  });

  const queue = async (): Promise<string> => {
    const name = uniqueName('fanout-test');
    await channel.assertQueue(name, { durable: true });
    queues.push(name);
    return name;
  };
  const attempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
    eventId: newEventId(),
    flow: 'payments',
    receivedAt: Date.parse('2026-03-01T11:59:00Z'),
    body: Buffer.from('{"type":"payment.succeeded"}'),
    contentType: 'application/json',
    attempt: 1,
    startedAt: Date.parse('2026-03-01T12:00:00.750Z'),
    signal: new AbortController().signal,
    ...overrides,
  });
  const to = (routingKey: string, overrides: Partial<AmqpDestination> = {}): AmqpDestination => amqpDestination({ name: 'bus', url: RABBITMQ_URL, routingKey, ...overrides });
  const take = async (name: string): Promise<GetMessage> => {
    const message = await channel.get(name, { noAck: true });
    if (!message) throw new Error(`queue ${name} is empty`);
    return message;
  };

  it('publishes the body byte for byte with the contract properties and headers, delivered once confirmed', async () => {
    const name = await queue();
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x7b]);
    const sent = attempt({ body, contentType: 'application/octet-stream' });
    expect((await kind.client(to(name)).deliver(sent)).outcome).toEqual({ kind: 'delivered' });
    const message = await take(name);
    expect(message.content.equals(body)).toBe(true);
    expect(message.properties).toMatchObject({ messageId: sent.eventId, contentType: 'application/octet-stream', timestamp: Math.floor(sent.startedAt / 1_000), deliveryMode: 2, headers: { 'webhook-id': sent.eventId, 'fanout-flow': 'payments' } });
  });

  it('publishes through a named exchange with the routing key, transient when persistent is false', async () => {
    const name = await queue();
    const exchange = uniqueName('fanout-test-x');
    await channel.assertExchange(exchange, 'direct', { durable: false });
    exchanges.push(exchange);
    await channel.bindQueue(name, exchange, 'orders');
    expect((await kind.client(to('orders', { exchange, persistent: false })).deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
    expect((await take(name)).properties.deliveryMode).toBe(1);
  });

  it('retries an unroutable message: confirmed, but no queue took it', async () => {
    const report = await kind.client(to(uniqueName('no-such-queue'))).deliver(attempt());
    expect(report.outcome).toMatchObject({ kind: 'retry', reason: expect.stringContaining('AMQP 312 NO_ROUTE') });
  });

  it("dead-letters a missing exchange at once, and the destination's next publish gets a new channel", async () => {
    const missing = to('orders', { exchange: uniqueName('no-such-exchange') });
    const client = kind.client(missing);
    const report = await client.deliver(attempt());
    expect(report.outcome).toEqual({ kind: 'dead', reason: 'AMQP 404 NOT-FOUND' });
    expect(report.response).toContain('no exchange');
    // Another destination on the same connection is unharmed.
    const name = await queue();
    expect((await kind.client(to(name)).deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
    expect((await client.deliver(attempt())).outcome).toEqual({ kind: 'dead', reason: 'AMQP 404 NOT-FOUND' });
  });

  // What a report says goes to the record, the attempt log and the worker's log line.
  it('dead-letters refused credentials at once, the password in no part of its report', async () => {
    const url = new URL(RABBITMQ_URL);
    url.password = 'refused-s3cr3t';
    const own = createAmqpKind();
    const report = await own.client(to('q', { url: url.toString() })).deliver(attempt());
    await own.close();
    expect(report.outcome).toEqual({ kind: 'dead', reason: 'AMQP 403 ACCESS-REFUSED' });
    expect(JSON.stringify(report)).not.toContain('refused-s3cr3t');
  });

  it('retries a broker that does not answer, the password in no part of its report', async () => {
    const own = createAmqpKind();
    const report = await own.client(to('q', { url: 'amqp://guest:unanswered-s3cr3t@127.0.0.1:9' })).deliver(attempt());
    await own.close();
    expect(report.outcome).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
    expect(JSON.stringify(report)).not.toContain('unanswered-s3cr3t');
  });

  it('reconnects by itself after its connection is cut', async () => {
    const name = await queue();
    const proxy = await startTcpProxy(new URL(RABBITMQ_URL).host);
    const url = new URL(RABBITMQ_URL);
    url.port = String(proxy.port);
    const own = createAmqpKind();
    const client = own.client(to(name, { url: url.toString() }));
    try {
      expect((await client.deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
      expect(proxy.open).toBe(1);
      proxy.dropConnections();
      const outcomes: string[] = [];
      for (let i = 0; i < 20 && outcomes.at(-1) !== 'delivered'; i += 1) {
        outcomes.push((await client.deliver(attempt())).outcome.kind);
        if (outcomes.at(-1) !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(outcomes.at(-1)).toBe('delivered');
      expect(proxy.open).toBe(1);
    } finally {
      await own.close();
      await proxy.close();
    }
    expect((await channel.checkQueue(name)).messageCount).toBeGreaterThanOrEqual(2);
  });
});
