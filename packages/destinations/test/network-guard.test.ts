import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createAmqpKind, createHttpKind, createNatsKind, createNetworkGuard, createS3Kind, DEFAULT_DENIED_RANGES, type DestinationClient, type DestinationKind, type NetworkGuardOptions } from '@fanout/destinations';
import type { Destination, HttpDestination } from '@fanout/flows';
import {
  amqpDestination,
  connectNats,
  connectRabbitMq,
  deliveryAttempt,
  httpDestination,
  NATS_URL,
  natsDestination,
  RABBITMQ_URL,
  replies,
  S3_SERVER_CREDENTIALS,
  s3Destination,
  startReceiver,
  startS3Server,
  startTcpProxy,
  uniqueName,
  type ScriptedReceiver,
  type TcpProxy,
} from '@fanout/testkit';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/** A resolver that answers each lookup with the next of `answers` (the last one from then on), as a rebinding DNS server would; `lookups` counts them. */
function rebindingResolver(...answers: string[]): { resolve: LookupFunction; readonly lookups: number } {
  let lookups = 0;
  return {
    resolve: (_host, _options, callback) => {
      const address = answers[Math.min(lookups++, answers.length - 1)]!;
      (callback as unknown as (error: null, found: LookupAddress[]) => void)(null, [{ address, family: 4 }]);
    },
    get lookups() {
      return lookups;
    },
  };
}

describe('the http kind behind the network guard', () => {
  let receiver: ScriptedReceiver;
  let port: string;
  const kinds: DestinationKind<HttpDestination>[] = [];
  beforeAll(async () => {
    receiver = await startReceiver();
    port = new URL(receiver.url).port;
  });
  afterAll(async () => {
    await Promise.all(kinds.map((kind) => kind.close()));
    await receiver.close();
  });

  const kindWith = (options: Parameters<typeof createNetworkGuard>[0]): DestinationKind<HttpDestination> => {
    const kind = createHttpKind({ networkGuard: createNetworkGuard(options) });
    kinds.push(kind);
    return kind;
  };
  const to = (url: string): HttpDestination => httpDestination({ name: 'orders', url });

  it('dead-letters an attempt to a denied address at once, naming the address, and sends nothing', async () => {
    const kind = kindWith({ deny: [...DEFAULT_DENIED_RANGES, ...LOOPBACK] });
    const report = await kind.client(to(`${receiver.url}/denied`)).deliver(deliveryAttempt());
    expect(report.outcome).toEqual({ kind: 'dead', reason: 'destination address 127.0.0.1 is denied' });
    expect(report.statusCode).toBeUndefined();
    expect(receiver.requestsTo('/denied')).toHaveLength(0);
  });

  it('checks the addresses a host name resolves to', async () => {
    const kind = kindWith({ deny: LOOPBACK });
    const report = await kind.client(to(`http://localhost:${port}/by-name`)).deliver(deliveryAttempt());
    expect(report.outcome).toMatchObject({ kind: 'dead', reason: expect.stringMatching(/^destination address (127\.0\.0\.1|::1) is denied$/) });
    expect(receiver.requestsTo('/by-name')).toHaveLength(0);
  });

  it('judges an IPv4-mapped IPv6 literal as its IPv4 address', async () => {
    const kind = kindWith({ deny: ['127.0.0.0/8'] });
    const report = await kind.client(to(`http://[::ffff:127.0.0.1]:${port}/mapped`)).deliver(deliveryAttempt());
    expect(report.outcome).toEqual({ kind: 'dead', reason: 'destination address 127.0.0.1 is denied' });
    expect(receiver.requestsTo('/mapped')).toHaveLength(0);
  });

  it('checks every new connection after resolving it again, so a name rebound to a denied address gets nowhere', async () => {
    // The first answer is allowed; the same name then resolves to a denied one.
    const rebinding = rebindingResolver('127.0.0.1', '127.0.0.2');
    const kind = kindWith({ deny: ['127.0.0.2/32'], resolve: rebinding.resolve });
    // The receiver closes each connection, so the next attempt needs a new one.
    receiver.script('/rebound', () => ({ status: 200, headers: { connection: 'close' } }));
    const client = kind.client(to(`http://rebind.fanout.test:${port}/rebound`));
    expect((await client.deliver(deliveryAttempt())).outcome).toEqual({ kind: 'delivered' });
    expect((await client.deliver(deliveryAttempt())).outcome).toEqual({ kind: 'dead', reason: 'destination address 127.0.0.2 is denied' });
    expect(rebinding.lookups).toBe(2);
    expect(receiver.requestsTo('/rebound')).toHaveLength(1);
  });

  it.each([301, 302, 303, 307, 308])('never follows a %i, even to an address it would allow', async (status) => {
    const kind = kindWith({});
    receiver.script(`/redirect-${status}`, replies.status(status, { location: `${receiver.url}/target-${status}` }));
    const report = await kind.client(to(`${receiver.url}/redirect-${status}`)).deliver(deliveryAttempt());
    expect(report).toMatchObject({ statusCode: status, outcome: { kind: 'dead', reason: `HTTP ${status} (redirects are not followed)` } });
    expect(receiver.requestsTo(`/target-${status}`)).toHaveLength(0);
  });
});

/** A store or broker kind as the guard tests drive it: a destination on `host` (host:port) that delivers when it reaches the real server. */
interface GuardedKind {
  readonly type: string;
  readonly create: (guard: NetworkGuardOptions) => DestinationKind;
  /** The real server's host:port, which a proxy on 127.0.0.1 forwards to. */
  readonly upstream: () => string;
  readonly destination: (host: string) => Destination;
}

/** The URL with its host (and port) replaced, its credentials kept. */
const onHost = (url: string, host: string): string => {
  const moved = new URL(url);
  moved.host = host;
  return moved.toString();
};

describe('the s3, amqp and nats kinds behind the network guard', () => {
  const closing: (() => Promise<unknown>)[] = [];
  let s3Url = '';
  let bucket = '';
  let queue = '';
  let subject = '';
  beforeAll(async () => {
    const s3 = await startS3Server();
    bucket = uniqueName('fanout-guard');
    await s3.createBucket(bucket);
    s3Url = s3.url;
    const broker = await connectRabbitMq();
    const channel = await broker.createChannel();
    queue = uniqueName('fanout-guard');
    await channel.assertQueue(queue, { durable: false, autoDelete: false });
    const { connection, jsm } = await connectNats();
    const stream = uniqueName('fanout_guard').replace(/-/g, '_');
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    subject = `${stream}.created`;
    closing.push(
      async () => {
        await s3.deleteBucket(bucket);
        await s3.close();
      },
      async () => {
        await channel.deleteQueue(queue);
        await broker.close();
      },
      async () => {
        await jsm.streams.delete(stream);
        await connection.close();
      },
    );
  }, 30_000);
  afterAll(async () => {
    for (const close of closing.reverse()) await close();
  }, 30_000);

  const kinds: GuardedKind[] = [
    {
      type: 's3',
      create: (options) => createS3Kind({ networkGuard: createNetworkGuard(options) }) as DestinationKind,
      upstream: () => new URL(s3Url).host,
      destination: (host) => s3Destination({ name: 'archive', bucket, endpoint: `http://${host}`, credentials: S3_SERVER_CREDENTIALS, timeoutMs: 5_000 }),
    },
    {
      type: 'amqp',
      create: (options) => createAmqpKind({ networkGuard: createNetworkGuard(options) }) as DestinationKind,
      upstream: () => new URL(RABBITMQ_URL).host,
      destination: (host) => amqpDestination({ name: 'bus', url: onHost(RABBITMQ_URL, host), routingKey: queue, timeoutMs: 5_000 }),
    },
    {
      type: 'nats',
      create: (options) => createNatsKind({ networkGuard: createNetworkGuard(options) }) as DestinationKind,
      upstream: () => new URL(NATS_URL).host,
      destination: (host) => natsDestination({ name: 'js', url: onHost(NATS_URL, host), subject, timeoutMs: 1_000 }),
    },
  ];

  /** A kind with the guard, and a proxy on 127.0.0.1 in front of its server that counts what reaches it; both closed by the end. */
  const setUp = async (guarded: GuardedKind, options: NetworkGuardOptions): Promise<{ kind: DestinationKind; proxy: TcpProxy }> => {
    const kind = guarded.create(options);
    const proxy = await startTcpProxy(guarded.upstream());
    closing.push(() => proxy.close(), () => kind.close());
    return { kind, proxy };
  };

  describe.each(kinds)('$type', (guarded) => {
    it('delivers to an address the guard allows', async () => {
      const { kind, proxy } = await setUp(guarded, {});
      expect((await kind.client(guarded.destination(`127.0.0.1:${proxy.port}`)).deliver(deliveryAttempt())).outcome).toEqual({ kind: 'delivered' });
      expect(proxy.accepted).toBeGreaterThanOrEqual(1);
    });

    it('dead-letters an IP literal the guard denies at once, naming the address, and connects nowhere', async () => {
      const { kind, proxy } = await setUp(guarded, { deny: [...DEFAULT_DENIED_RANGES, ...LOOPBACK] });
      const report = await kind.client(guarded.destination(`127.0.0.1:${proxy.port}`)).deliver(deliveryAttempt());
      expect(report.outcome).toEqual({ kind: 'dead', reason: 'destination address 127.0.0.1 is denied' });
      expect(proxy.accepted).toBe(0);
    });

    it('checks the addresses a host name resolves to', async () => {
      const { kind, proxy } = await setUp(guarded, { deny: LOOPBACK });
      const report = await kind.client(guarded.destination(`localhost:${proxy.port}`)).deliver(deliveryAttempt());
      expect(report.outcome).toMatchObject({ kind: 'dead', reason: expect.stringMatching(/^destination address (127\.0\.0\.1|::1) is denied$/) });
      expect(proxy.accepted).toBe(0);
    });

    it('by default, refuses the cloud metadata address', async () => {
      const kind = guarded.create({});
      closing.push(() => kind.close());
      const report = await kind.client(guarded.destination('169.254.169.254:80')).deliver(deliveryAttempt());
      expect(report.outcome).toEqual({ kind: 'dead', reason: 'destination address 169.254.169.254 is denied' });
    });
  });

  /** Delivers once to a name that resolves first to 127.0.0.1, then to the denied 127.0.0.2, as a rebinding DNS server would answer; then cuts the connection. */
  const deliveredThenCut = async (guarded: GuardedKind): Promise<{ client: DestinationClient; proxy: TcpProxy; rebinding: ReturnType<typeof rebindingResolver> }> => {
    const rebinding = rebindingResolver('127.0.0.1', '127.0.0.2');
    const { kind, proxy } = await setUp(guarded, { deny: ['127.0.0.2/32'], resolve: rebinding.resolve });
    const client = kind.client(guarded.destination(`rebind.fanout.test:${proxy.port}`));
    expect((await client.deliver(deliveryAttempt())).outcome).toEqual({ kind: 'delivered' });
    proxy.dropConnections();
    return { client, proxy, rebinding };
  };

  /** Attempts until one's outcome (`delivered`, or `<kind>: <reason>`) is `last`, at most `tries`, `pauseMs` apart; the outcomes. */
  const attemptsUntil = async (client: DestinationClient, last: string, tries: number, pauseMs: number): Promise<string[]> => {
    const outcomes: string[] = [];
    for (let i = 0; i < tries && outcomes.at(-1) !== last; i += 1) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      const { outcome } = await client.deliver(deliveryAttempt());
      outcomes.push(outcome.kind === 'delivered' ? 'delivered' : `${outcome.kind}: ${outcome.reason}`);
    }
    return outcomes;
  };

  // The s3 and amqp clients resolve at each new connection; the nats client is given the checked addresses instead.
  it.each(kinds.filter(({ type }) => type !== 'nats'))('$type, with a name rebound to a denied address, refuses the next connection, resolved again', async (guarded) => {
    const { client, proxy } = await deliveredThenCut(guarded);
    // An attempt may still meet the cut connection (and be retried); the next new one meets the guard.
    const outcomes = await attemptsUntil(client, 'dead: destination address 127.0.0.2 is denied', 5, 0);
    expect(outcomes.at(-1)).toBe('dead: destination address 127.0.0.2 is denied');
    expect(outcomes).not.toContain('delivered');
    expect(proxy.accepted).toBe(1);
  });

  it('nats, with a name rebound to a denied address, reconnects to the address it checked without resolving the name again', async () => {
    const { client, proxy, rebinding } = await deliveredThenCut(kinds.find(({ type }) => type === 'nats')!);
    // A publish in flight through the cut may time out (and be retried); the client reconnects meanwhile.
    const outcomes = await attemptsUntil(client, 'delivered', 20, 200);
    expect(outcomes.at(-1)).toBe('delivered');
    expect(outcomes).not.toContain('dead: destination address 127.0.0.2 is denied');
    expect(proxy.accepted).toBe(2);
    expect(rebinding.lookups).toBe(1);
  }, 30_000);
});
