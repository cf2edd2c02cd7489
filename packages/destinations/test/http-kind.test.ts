import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpKind, RESPONSE_SNIPPET_BYTES, type AttemptReport, type DeliveryAttempt, type DestinationKind } from '@fanout/destinations';
import type { HttpDestination } from '@fanout/flows';
import { deliveryAttempt, httpDestination, replies, startReceiver, type ScriptedReceiver } from '@fanout/testkit';

describe('the http kind', () => {
  let receiver: ScriptedReceiver;
  let kind: DestinationKind<HttpDestination>;
  beforeAll(async () => {
    receiver = await startReceiver();
    kind = createHttpKind();
  });
  afterAll(async () => {
    await kind.close();
    await receiver.close();
  });

  const attempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt =>
    deliveryAttempt({ receivedAt: Date.parse('2026-03-01T11:59:00Z'), startedAt: Date.parse('2026-03-01T12:00:00.750Z'), ...overrides });
  const deliver = (destination: HttpDestination, overrides: Partial<DeliveryAttempt> = {}): Promise<AttemptReport> => kind.client(destination).deliver(attempt(overrides));
  const to = (path: string, overrides: Partial<HttpDestination> = {}): HttpDestination => httpDestination({ name: 'orders', url: `${receiver.url}${path}`, ...overrides });

  it('POSTs the body byte for byte with its content type, the webhook headers and the configured headers', async () => {
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0xc3, 0x28, 0x7b]);
    const sent = attempt({ body, contentType: 'application/octet-stream; charset=binary' });
    const report = await kind.client(to('/full?team=orders', { headers: { 'X-Team': 'orders', Authorization: 'Bearer t0k' } })).deliver(sent);

    expect(report).toMatchObject({ outcome: { kind: 'delivered' }, statusCode: 200 });
    const [request] = receiver.requestsTo('/full');
    expect(request?.method).toBe('POST');
    expect(request?.body.equals(body)).toBe(true);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/octet-stream; charset=binary',
      'webhook-id': sent.eventId,
      'webhook-timestamp': String(Date.parse('2026-03-01T12:00:00Z') / 1_000),
      'x-team': 'orders',
      authorization: 'Bearer t0k',
      'user-agent': 'fanout',
    });
  });

  it('sends no content type when the event had none', async () => {
    await deliver(to('/untyped'), { contentType: '', body: Buffer.from('plain') });
    const [request] = receiver.requestsTo('/untyped');
    expect(request?.body.toString()).toBe('plain');
    expect(request?.headers['content-type']).toBeUndefined();
  });

  it('keeps the webhook id and content type when a configured header names them too', async () => {
    const sent = attempt();
    await kind.client(to('/spoof', { headers: { 'Webhook-Id': 'spoofed', 'Content-Type': 'text/plain' } })).deliver(sent);
    const [request] = receiver.requestsTo('/spoof');
    expect(request?.headers['webhook-id']).toBe(sent.eventId);
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('sends a URL\'s user:password@ as Basic auth, decoded', async () => {
    await deliver(httpDestination({ name: 'orders', url: receiver.url.replace('http://', 'http://us%40er:p%3Ass@') + '/basic' }));
    expect(receiver.requestsTo('/basic')[0]?.headers.authorization).toBe(`Basic ${Buffer.from('us@er:p:ss').toString('base64')}`);
    await deliver(httpDestination({ name: 'orders', url: receiver.url.replace('http://', 'http://user:100%zz@') + '/stray-percent' }));
    expect(receiver.requestsTo('/stray-percent')[0]?.headers.authorization).toBe(`Basic ${Buffer.from('user:100%zz').toString('base64')}`);
  });

  it('does not follow a redirect, and dead-letters it', async () => {
    receiver.script('/moved', replies.status(302, { location: '/elsewhere' }));
    expect(await deliver(to('/moved'))).toMatchObject({ statusCode: 302, outcome: { kind: 'dead', reason: 'HTTP 302 (redirects are not followed)' } });
    expect(receiver.requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('retries an error answer, honouring its Retry-After, and keeps the start of its body on one line', async () => {
    receiver.script('/busy', () => ({ status: 503, headers: { 'retry-after': '3' }, body: `busy:\n  ${'x'.repeat(3 * RESPONSE_SNIPPET_BYTES)}` }));
    const report = await deliver(to('/busy'));
    expect(report).toMatchObject({ statusCode: 503, outcome: { kind: 'retry', reason: 'HTTP 503', retryAfterMs: 3_000 } });
    expect(report.response?.startsWith('busy: xxx')).toBe(true);
    expect(report.response?.length).toBeLessThanOrEqual(RESPONSE_SNIPPET_BYTES);
  });

  it('gives up on a destination that never answers after the destination timeout', async () => {
    receiver.script('/hang', replies.hang());
    const report = await deliver(to('/hang', { timeoutMs: 300 }));
    expect(report).toMatchObject({ outcome: { kind: 'retry', reason: 'timeout after 300 ms' } });
    expect(report.response).toBeUndefined();
    expect(report.durationMs).toBeGreaterThanOrEqual(290);
    expect(receiver.requestsTo('/hang')).toHaveLength(1);
  });

  it('reports a refused connection by its code, with its message', async () => {
    const closed = await startReceiver();
    await closed.close();
    const report = await deliver(httpDestination({ name: 'gone', url: `${closed.url}/` }));
    expect(report.outcome).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
    expect(report.response).toContain('ECONNREFUSED');
  });

  it('sends attempts over kept-alive connections, not one connection each', async () => {
    // Throughput depends on it: a new connection per attempt would cost a handshake each time.
    // The pool may open a second socket when the next attempt starts before undici has
    // released the first one, so the bound is two, not one.
    let connections = 0;
    const server = createServer((req, res) => req.resume().on('end', () => res.end()));
    server.on('connection', () => connections++);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = kind.client(httpDestination({ name: 'kept', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/kept` }));
    try {
      for (let i = 0; i < 10; i++) expect(await client.deliver(attempt())).toMatchObject({ statusCode: 200 });
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('ends an attempt when its signal aborts, and says it was interrupted', async () => {
    receiver.script('/abandoned', replies.hang());
    const abort = new AbortController();
    const delivering = deliver(to('/abandoned', { timeoutMs: 60_000 }), { signal: abort.signal });
    await receiver.waitFor('/abandoned', 1);
    abort.abort();
    expect(await delivering).toMatchObject({ interrupted: true, outcome: { kind: 'retry', reason: 'ERR_ABORTED' } });
  });
});
