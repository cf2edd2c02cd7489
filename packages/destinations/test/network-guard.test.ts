import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpKind, createNetworkGuard, DEFAULT_DENIED_RANGES, type DestinationKind } from '@fanout/destinations';
import type { HttpDestination } from '@fanout/flows';
import { deliveryAttempt, httpDestination, replies, startReceiver, type ScriptedReceiver } from '@fanout/testkit';

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

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
    // The first answer is allowed; the same name then resolves to a denied one, as a rebinding DNS server would answer.
    const answers = ['127.0.0.1', '127.0.0.2'];
    let lookups = 0;
    const rebinding: LookupFunction = (_host, _options, callback) => {
      const address = answers[Math.min(lookups++, answers.length - 1)]!;
      (callback as unknown as (error: null, found: LookupAddress[]) => void)(null, [{ address, family: 4 }]);
    };
    const kind = kindWith({ deny: ['127.0.0.2/32'], resolve: rebinding });
    // The receiver closes each connection, so the next attempt needs a new one.
    receiver.script('/rebound', () => ({ status: 200, headers: { connection: 'close' } }));
    const client = kind.client(to(`http://rebind.fanout.test:${port}/rebound`));
    expect((await client.deliver(deliveryAttempt())).outcome).toEqual({ kind: 'delivered' });
    expect((await client.deliver(deliveryAttempt())).outcome).toEqual({ kind: 'dead', reason: 'destination address 127.0.0.2 is denied' });
    expect(lookups).toBe(2);
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
