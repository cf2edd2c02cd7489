import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { readEventRecord } from '@fanout/delivery';
import { readEvent } from '@fanout/event-log';
import { createRedisFixture, httpDestination, testFlow, type RedisFixture } from '@fanout/testkit';
import { post, startIngress, type Reply, type TestIngress } from './ingress-server.js';

const LIMIT = 1_024;
const flows = [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })], LIMIT)];
const RECEIVED_AT = 1_700_000_000_123;

interface ErrorBody {
  error: { code: string; message: string };
}

describe('POST /webhooks/:flow', () => {
  let fx: RedisFixture;
  let ingress: TestIngress;
  let draining: boolean;

  beforeEach(async () => {
    fx = await createRedisFixture();
    draining = false;
    ingress = await startIngress({ redis: fx.redis, keys: fx.keys, flows, isDraining: () => draining, now: () => RECEIVED_AT });
  });
  afterEach(async () => {
    await ingress.close();
    await fx.cleanup();
  });

  const storedEvents = (): Promise<number> => fx.redis.xlen(fx.keys.partitions[0]!.stream);

  async function expectStored(reply: Reply, contentType: string, body: Buffer): Promise<void> {
    expect(reply.status).toBe(202);
    const { id } = reply.json<{ id: string }>();
    const record = await readEventRecord(fx.redis, fx.keys.partitionOf(id), id);
    expect(record).toMatchObject({ id, flow: 'payments', receivedAt: RECEIVED_AT, deliveries: [] });
    const entry = await readEvent(fx.redis, fx.keys.partitionOf(id), record!.streamId);
    expect(entry).toMatchObject({ id, flow: 'payments', receivedAt: RECEIVED_AT, contentType });
    expect(entry?.body.equals(body)).toBe(true);
  }

  it('stores a binary body byte for byte with its Content-Type and answers 202 with the event id', async () => {
    const body = Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x0d, 0x0a, 0x00]);
    const reply = await post(ingress.port, '/webhooks/payments', { headers: { 'content-type': 'application/octet-stream' }, chunks: [body] });
    expect(reply.json<{ id: string }>().id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    await expectStored(reply, 'application/octet-stream', body);
  });

  it('stores a JSON body as sent, never re-serialised, and the Content-Type with its parameters', async () => {
    const body = Buffer.from('{"type":"payment.succeeded",   "amount": 1.50, "note":"caf\u00e9"}\n');
    const contentType = 'application/json; charset=utf-8';
    await expectStored(await post(ingress.port, '/webhooks/payments', { headers: { 'content-type': contentType }, chunks: [body] }), contentType, body);
  });

  it('accepts an empty body, with Content-Length 0 or no body headers at all, and an absent Content-Type as empty', async () => {
    await expectStored(await post(ingress.port, '/webhooks/payments', { headers: { 'content-length': '0' } }), '', Buffer.alloc(0));

    // Node's client always sends Content-Length or chunked; curl -X POST without data sends neither.
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = connect(ingress.port, '127.0.0.1', () => socket.write('POST /webhooks/payments HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
    expect(statusLine).toBe('HTTP/1.1 202 Accepted');
    expect(await storedEvents()).toBe(2);
  });

  it('accepts a body of exactly maxBodyBytes', async () => {
    const body = Buffer.alloc(LIMIT, 7);
    await expectStored(await post(ingress.port, '/webhooks/payments', { chunks: [body] }), '', body);
  });

  it('stores a gzip-encoded body decoded, since the stream entry keeps no Content-Encoding', async () => {
    const body = Buffer.from('{"type":"payment.succeeded"}');
    const headers = { 'content-type': 'application/json', 'content-encoding': 'gzip' };
    await expectStored(await post(ingress.port, '/webhooks/payments', { headers, chunks: [gzipSync(body)] }), 'application/json', body);
  });

  it.each([
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('stores a %s-encoded body decoded too', async (encoding, encode) => {
    const body = Buffer.from('{"type":"payment.succeeded"}');
    await expectStored(await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': encoding }, chunks: [encode(body)] }), '', body);
  });

  it('accepts an empty body whatever its Content-Encoding says', async () => {
    await expectStored(await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': 'gzip' }, chunks: [] }), '', Buffer.alloc(0));
  });

  it('answers 413 BODY_TOO_LARGE to an encoded body that decodes past the limit', async () => {
    const reply = await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': 'gzip' }, chunks: [gzipSync(Buffer.alloc(LIMIT + 1))] });
    expect(reply.status).toBe(413);
    expect(reply.json<ErrorBody>().error.code).toBe('BODY_TOO_LARGE');
    expect(await storedEvents()).toBe(0);
  });

  it.each([
    ['an unsupported Content-Encoding', 'compress', Buffer.from('{}')],
    ['a body that does not decode', 'gzip', Buffer.from('not gzip')],
  ])('answers 400 REQUEST_INVALID to %s', async (_what, encoding, body) => {
    const reply = await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': encoding }, chunks: [body] });
    expect(reply.status).toBe(400);
    expect(reply.json<ErrorBody>().error.code).toBe('REQUEST_INVALID');
    expect(await storedEvents()).toBe(0);
  });

  it('answers 404 FLOW_NOT_FOUND for an unknown flow without reading the body', async () => {
    // The body is announced but never sent: only a decision taken before reading it can answer.
    const reply = await post(ingress.port, '/webhooks/refunds', { headers: { 'content-length': '100' }, end: false });
    expect(reply.status).toBe(404);
    expect(reply.json<ErrorBody>().error.code).toBe('FLOW_NOT_FOUND');
    expect(await storedEvents()).toBe(0);
  });

  it('answers 413 BODY_TOO_LARGE to a Content-Length above the limit before the body is sent, and closes the connection', async () => {
    const reply = await post(ingress.port, '/webhooks/payments', { headers: { 'content-length': String(1_000 * LIMIT) }, end: false });
    expect(reply.status).toBe(413);
    expect(reply.json<ErrorBody>().error.code).toBe('BODY_TOO_LARGE');
    expect(reply.headers.connection).toBe('close');
    expect(await storedEvents()).toBe(0);
  });

  it('cuts off a chunked body that grows past the limit with 413 while the upload is still going', async () => {
    const chunks = Array.from({ length: 3 }, () => Buffer.alloc(LIMIT / 2, 1));
    const reply = await post(ingress.port, '/webhooks/payments', { chunks, end: false });
    expect(reply.status).toBe(413);
    expect(reply.headers.connection).toBe('close');
    expect(reply.json<ErrorBody>().error.code).toBe('BODY_TOO_LARGE');
    expect(await storedEvents()).toBe(0);
  });

  it('answers 503 SHUTTING_DOWN with Retry-After while draining', async () => {
    draining = true;
    const reply = await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.from('{}')] });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(reply.json<ErrorBody>().error.code).toBe('SHUTTING_DOWN');
    expect(await storedEvents()).toBe(0);
  });

  it('counts accepted events only, by flow', async () => {
    const twoFlows = [...flows, testFlow('refunds', [], LIMIT)];
    const counted = await startIngress({ redis: fx.redis, keys: fx.keys, flows: twoFlows, isDraining: () => draining });
    try {
      const send = (flow: string, bytes: number): Promise<Reply> => post(counted.port, `/webhooks/${flow}`, { chunks: [Buffer.alloc(bytes)] });
      expect((await send('payments', 10)).status).toBe(202);
      expect((await send('payments', 10)).status).toBe(202);
      expect((await send('refunds', 10)).status).toBe(202);
      expect((await send('payments', LIMIT + 1)).status).toBe(413);
      expect((await send('unknown', 10)).status).toBe(404);
      draining = true;
      expect((await send('payments', 10)).status).toBe(503);

      const values = (await counted.metrics.eventsAccepted.get()).values.map(({ labels, value }) => ({ flow: labels.flow, value }));
      expect(values.sort((a, b) => String(a.flow).localeCompare(String(b.flow)))).toEqual([
        { flow: 'payments', value: 2 },
        { flow: 'refunds', value: 1 },
      ]);
      expect(await storedEvents()).toBe(3);
    } finally {
      await counted.close();
    }
  });
});
