import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createHttpSender, isSendFailure, RESPONSE_SNIPPET_BYTES, type HttpSender, type OutboundDelivery, type SendResult } from '@fanout/destinations';
import { httpDestination, replies, startReceiver, type ScriptedReceiver } from '@fanout/testkit';

describe('http sender', () => {
  let receiver: ScriptedReceiver;
  let sender: HttpSender;
  beforeAll(async () => {
    receiver = await startReceiver();
    sender = createHttpSender();
  });
  afterAll(async () => {
    sender.close();
    await receiver.close();
  });

  const delivery = (path: string, overrides: Partial<OutboundDelivery> = {}): OutboundDelivery => ({
    eventId: newEventId(),
    body: Buffer.from('{"type":"payment.succeeded"}'),
    contentType: 'application/json',
    destination: httpDestination({ name: 'orders', url: `${receiver.url}${path}` }),
    attemptStartedAt: new Date('2026-03-01T12:00:00.750Z'),
    ...overrides,
  });

  const expectFailure = (result: SendResult): { code: string; message: string } => {
    if (!isSendFailure(result)) throw new Error(`expected a failure, got HTTP ${result.statusCode}`);
    return result.error;
  };

  it('POSTs the body byte for byte with its content type, the webhook headers and the configured headers', async () => {
    const body = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0xc3, 0x28, 0x7b]);
    const outbound = delivery('/full', {
      body,
      contentType: 'application/octet-stream; charset=binary',
      destination: httpDestination({ name: 'orders', url: `${receiver.url}/full?team=orders`, headers: { 'X-Team': 'orders', Authorization: 'Bearer t0k' } }),
    });

    const result = await sender.send(outbound);

    expect(result).toMatchObject({ statusCode: 200 });
    const [request] = receiver.requestsTo('/full');
    expect(request?.method).toBe('POST');
    expect(request?.body.equals(body)).toBe(true);
    expect(request?.headers).toMatchObject({
      'content-type': 'application/octet-stream; charset=binary',
      'webhook-id': outbound.eventId,
      'webhook-timestamp': String(Date.parse('2026-03-01T12:00:00Z') / 1_000),
      'x-team': 'orders',
      authorization: 'Bearer t0k',
      'user-agent': 'fanout',
    });
  });

  it('sends no content type when the event had none', async () => {
    await sender.send(delivery('/untyped', { contentType: '', body: Buffer.from('plain') }));
    const [request] = receiver.requestsTo('/untyped');
    expect(request?.body.toString()).toBe('plain');
    expect(request?.headers['content-type']).toBeUndefined();
  });

  it('keeps the webhook id and content type when a configured header names them too', async () => {
    const outbound = delivery('/spoof', { destination: httpDestination({ name: 'orders', url: `${receiver.url}/spoof`, headers: { 'Webhook-Id': 'spoofed', 'Content-Type': 'text/plain' } }) });
    await sender.send(outbound);
    const [request] = receiver.requestsTo('/spoof');
    expect(request?.headers['webhook-id']).toBe(outbound.eventId);
    expect(request?.headers['content-type']).toBe('application/json');
  });

  it('does not follow a redirect', async () => {
    receiver.script('/moved', replies.status(302, { location: '/elsewhere' }));
    const result = await sender.send(delivery('/moved'));
    expect(result).toMatchObject({ statusCode: 302, headers: { location: '/elsewhere' } });
    expect(receiver.requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('returns the status and headers of an error answer and keeps only the start of its body', async () => {
    receiver.script('/busy', () => ({ status: 503, headers: { 'retry-after': '3' }, body: `busy:${'x'.repeat(3 * RESPONSE_SNIPPET_BYTES)}` }));
    const result = await sender.send(delivery('/busy'));
    expect(result).toMatchObject({ statusCode: 503, headers: { 'retry-after': '3' } });
    const snippet = isSendFailure(result) ? '' : result.bodySnippet;
    expect(snippet.startsWith('busy:xxx')).toBe(true);
    expect(snippet).toHaveLength(RESPONSE_SNIPPET_BYTES);
  });

  it('gives up on a destination that never answers after the destination timeout', async () => {
    receiver.script('/hang', replies.hang());
    const result = await sender.send(delivery('/hang', { destination: httpDestination({ name: 'slow', url: `${receiver.url}/hang`, timeoutMs: 300 }) }));
    expect(expectFailure(result)).toEqual({ code: 'ETIMEDOUT', message: 'timeout after 300 ms' });
    expect(result.durationMs).toBeGreaterThanOrEqual(290);
    expect(receiver.requestsTo('/hang')).toHaveLength(1);
  });

  it('reports a refused connection by its code', async () => {
    const closed = await startReceiver();
    await closed.close();
    const result = await sender.send(delivery('/', { destination: httpDestination({ name: 'gone', url: `${closed.url}/` }) }));
    expect(expectFailure(result).code).toBe('ECONNREFUSED');
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
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/kept`;
    try {
      for (let i = 0; i < 10; i++) expect(await sender.send(delivery('/', { destination: httpDestination({ name: 'kept', url }) }))).toMatchObject({ statusCode: 200 });
      expect(connections).toBeLessThanOrEqual(2);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('ends an attempt when its signal aborts', async () => {
    receiver.script('/abandoned', replies.hang());
    const abort = new AbortController();
    const sending = sender.send(delivery('/abandoned', { signal: abort.signal, destination: httpDestination({ name: 'slow', url: `${receiver.url}/abandoned`, timeoutMs: 60_000 }) }));
    await receiver.waitFor('/abandoned', 1);
    abort.abort();
    expect(expectFailure(await sending).code).toBe('ERR_ABORTED');
  });
});
