import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createNatsKind, natsConnectionOptions, type DeliveryAttempt, type DestinationKind } from '@fanout/destinations';
import type { NatsDestination } from '@fanout/flows';
import { connectNats, NATS_URL, natsDestination, startTcpProxy, uniqueName } from '@fanout/testkit';
import { DiscardPolicy, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

describe('natsConnectionOptions', () => {
  it.each([
    ['nats://127.0.0.1:4222', { servers: 'nats://127.0.0.1:4222' }],
    ['nats://fanout:p%40ss@nats:4222', { servers: 'nats://nats:4222', user: 'fanout', pass: 'p@ss' }],
    ['tls://s3cr3t-token@nats.example.com:4222', { servers: 'tls://nats.example.com:4222', token: 's3cr3t-token' }],
  ])('reads %s', (url, options) => {
    expect(natsConnectionOptions(url)).toEqual(options);
  });
});

describe('the nats kind, against NATS JetStream', () => {
  let connection: NatsConnection;
  let jsm: JetStreamManager;
  let kind: DestinationKind<NatsDestination>;
  const streams: string[] = [];
  beforeAll(async () => {
    ({ connection, jsm } = await connectNats());
    kind = createNatsKind();
  });
  afterAll(async () => {
    await kind.close();
    for (const stream of streams) await jsm.streams.delete(stream);
    await connection.close();
  });

  /** A stream of the test's own capturing `<name>.>`. */
  const stream = async (config: Partial<StreamConfig> = {}): Promise<string> => {
    const name = uniqueName('fanout-test').replace(/-/g, '_');
    await jsm.streams.add({ name, subjects: [`${name}.>`], ...config });
    streams.push(name);
    return name;
  };
  const attempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => ({
    eventId: newEventId(),
    flow: 'payments',
    receivedAt: Date.parse('2026-03-01T11:59:00Z'),
    body: Buffer.from('{"type":"payment.succeeded"}'),
    contentType: 'application/json',
    attempt: 1,
    startedAt: Date.now(),
    signal: new AbortController().signal,
    ...overrides,
  });
  const to = (subject: string, overrides: Partial<NatsDestination> = {}): NatsDestination => natsDestination({ name: 'js', url: NATS_URL, subject, ...overrides });

  it('publishes the body byte for byte with Nats-Msg-Id and the contract headers, delivered once acknowledged', async () => {
    const name = await stream();
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x7b]);
    const sent = attempt({ body });
    const report = await kind.client(to(`${name}.created`)).deliver(sent);
    expect(report).toMatchObject({ outcome: { kind: 'delivered' }, response: `stream ${name} seq 1` });
    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect(Buffer.from(stored!.data).equals(body)).toBe(true);
    expect(stored!.subject).toBe(`${name}.created`);
    expect(stored!.header.get('Nats-Msg-Id')).toBe(sent.eventId);
    expect(stored!.header.get('webhook-id')).toBe(sent.eventId);
    expect(stored!.header.get('fanout-flow')).toBe('payments');
    expect(stored!.header.get('Content-Type')).toBe('application/json');
  });

  it('delivers a repeat without storing it twice: the duplicate window keeps it out', async () => {
    const name = await stream();
    const client = kind.client(to(`${name}.created`));
    const sent = attempt();
    await client.deliver(sent);
    const again = await client.deliver({ ...sent, attempt: 2 });
    expect(again).toMatchObject({ outcome: { kind: 'delivered' }, response: `stream ${name} seq 1 (duplicate)` });
    expect((await jsm.streams.info(name)).state.messages).toBe(1);
  });

  it('retries a subject no stream captures', async () => {
    const subject = `${uniqueName('nothing').replace(/-/g, '_')}.created`;
    expect((await kind.client(to(subject)).deliver(attempt())).outcome).toEqual({ kind: 'retry', reason: `no JetStream stream captures subject ${subject} (no responders)` });
  });

  it('retries a stream that is full (discard new)', async () => {
    const name = await stream({ max_msgs: 1, discard: DiscardPolicy.New });
    const client = kind.client(to(`${name}.created`));
    await client.deliver(attempt());
    expect((await client.deliver(attempt())).outcome).toEqual({ kind: 'retry', reason: 'JetStream 10077 maximum messages exceeded' });
  });

  it('retries a server that does not answer, the password in no part of its report', async () => {
    const own = createNatsKind();
    const report = await own.client(to('x.y', { url: 'nats://fanout:unanswered-s3cr3t@127.0.0.1:9' })).deliver(attempt());
    await own.close();
    expect(report.outcome.kind).toBe('retry');
    expect(JSON.stringify(report)).not.toContain('unanswered-s3cr3t');
  });

  it('reconnects by itself after its connection is cut', async () => {
    const name = await stream();
    const proxy = await startTcpProxy(new URL(NATS_URL).host);
    const own = createNatsKind();
    const client = own.client(to(`${name}.created`, { url: `nats://127.0.0.1:${proxy.port}` }));
    try {
      expect((await client.deliver(attempt())).outcome).toEqual({ kind: 'delivered' });
      proxy.dropConnections();
      const outcomes: string[] = [];
      for (let i = 0; i < 20 && outcomes.at(-1) !== 'delivered'; i += 1) {
        outcomes.push((await client.deliver(attempt())).outcome.kind);
        if (outcomes.at(-1) !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(outcomes.at(-1)).toBe('delivered');
    } finally {
      await own.close();
      await proxy.close();
    }
    expect((await jsm.streams.info(name)).state.messages).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
