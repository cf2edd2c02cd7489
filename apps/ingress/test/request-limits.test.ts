import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createRedisFixture, httpDestination, testFlow, type RedisFixture } from '@fanout/testkit';
import { post, startIngress, waitUntil, type TestIngress } from './ingress-server.js';

const LIMIT = 1_024;
const flows = [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })], LIMIT)];

interface ErrorBody {
  error: { code: string; message: string };
}

/** An upload over a raw socket, its body sent a part at a time: `answer` resolves with the status line once the server answers. */
function upload(port: number, contentLength: number): { socket: Socket; send(bytes: number): void; answer: Promise<string> } {
  const socket = connect(port, '127.0.0.1');
  socket.write(`POST /webhooks/payments HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${contentLength}\r\nConnection: close\r\n\r\n`);
  const answer = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', () => resolve(text.split('\r\n')[0] ?? ''));
  });
  return { socket, send: (bytes) => void socket.write(Buffer.alloc(bytes, 1)), answer };
}

describe('the ingress under load it cannot take', () => {
  let fx: RedisFixture;
  let ingress: TestIngress;
  beforeEach(async () => {
    fx = await createRedisFixture();
    ingress = await startIngress({ redis: fx.redis, keys: fx.keys, flows, maxBufferedBytes: 2 * LIMIT, bodyTimeoutMs: 1_000 });
  });
  afterEach(async () => {
    await ingress.close();
    await fx.cleanup();
  });
  const stored = (): Promise<number> => fx.redis.xlen(fx.keys.partitions[0]!.stream);

  it('answers 503 INGRESS_BUSY with Retry-After beyond its cap on bytes held at once, and takes requests again once they are released', async () => {
    // Two uploads that announce a full body each hold the whole cap while they are sent.
    const slow = [upload(ingress.port, LIMIT), upload(ingress.port, LIMIT)];
    for (const { send } of slow) send(10);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const busy = await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.from('{}')] });
    expect({ status: busy.status, retryAfter: busy.headers['retry-after'], connection: busy.headers.connection, code: busy.json<ErrorBody>().error.code }).toEqual({
      status: 503,
      retryAfter: '1',
      connection: 'close',
      code: 'INGRESS_BUSY',
    });
    expect(busy.json<ErrorBody>().error.message).toBe('this process already holds 2048 bytes of request bodies, of the 2048 it takes at once; retry shortly');

    for (const { send } of slow) send(LIMIT - 10);
    expect(await Promise.all(slow.map(({ answer }) => answer))).toEqual(['HTTP/1.1 202 Accepted', 'HTTP/1.1 202 Accepted']);
    expect((await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.alloc(LIMIT)] })).status).toBe(202);
    expect(await stored()).toBe(3);
  });

  it('counts a chunked body as it arrives', async () => {
    const holding = [upload(ingress.port, LIMIT), upload(ingress.port, LIMIT - 100)];
    for (const { send } of holding) send(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 100 bytes of room left: a chunked body of 3 × 60 bytes runs out of it on its second chunk.
    const reply = await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.alloc(60), Buffer.alloc(60), Buffer.alloc(60)] });
    expect(reply.status).toBe(503);
    for (const { socket } of holding) socket.destroy();
  });

  it('counts the decoded bytes of an encoded body too', async () => {
    const holding = upload(ingress.port, LIMIT);
    holding.send(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reply = await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': 'gzip' }, chunks: [gzipSync(Buffer.alloc(LIMIT - 1))] });
    expect(reply.status).toBe(503);
    holding.socket.destroy();
    await waitUntil(async () => (await post(ingress.port, '/webhooks/payments', { headers: { 'content-encoding': 'gzip' }, chunks: [gzipSync(Buffer.alloc(LIMIT - 1))] })).status === 202, 'the cap to be free again');
  });

  it('gives back what refused and broken requests held', async () => {
    expect((await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.alloc(LIMIT + 1)] })).status).toBe(413);
    const broken = upload(ingress.port, LIMIT);
    broken.send(100);
    await new Promise((resolve) => setTimeout(resolve, 50));
    broken.socket.destroy();
    // The cap holds two full bodies again: both are taken at once.
    await waitUntil(async () => {
      const replies = await Promise.all([0, 1].map(() => post(ingress.port, '/webhooks/payments', { chunks: [Buffer.alloc(LIMIT)] })));
      return replies.every(({ status }) => status === 202);
    }, 'two full bodies to be taken at once');
  });

  it('answers 408 REQUEST_TIMEOUT to a body that does not arrive within the body timeout, and closes the connection', async () => {
    const slow = upload(ingress.port, 100);
    slow.send(10);
    expect(await slow.answer).toBe('HTTP/1.1 408 Request Timeout');
    expect(await stored()).toBe(0);
    // Nothing else was disturbed.
    expect((await post(ingress.port, '/webhooks/payments', { chunks: [Buffer.from('{}')] })).status).toBe(202);
  });
});
