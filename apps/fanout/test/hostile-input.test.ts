import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { testConnection, testRedisUrl } from '@fanout/testkit';
import type { Redis } from 'ioredis';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

const ADMIN_TOKEN = 'sweep-admin-token-7f3a';
const METRICS_TOKEN = 'sweep-metrics-token-91c2';
const VERIFY_SECRET = 'whsec_c3dlZXAtdmVyaWZ5LXNlY3JldC1rZXk=';
const DEST_TOKEN = 'sweep-destination-token-55e1';
const FN_CODE = 'sweep-azure-fn-code-0d9b';
const SECRETS = [ADMIN_TOKEN, METRICS_TOKEN, VERIFY_SECRET, VERIFY_SECRET.slice('whsec_'.length), DEST_TOKEN, FN_CODE];
const LIMIT = 65_536;
const MAX_CONNECTIONS = 40;

const FLOWS = `
apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: payments }
spec:
  source: { maxBodyBytes: ${LIMIT}, idempotencyKey: { header: Idempotency-Key, ttl: 1h } }
  destinations:
    - { name: orders, type: http, url: "http://127.0.0.1:9/orders?code=\${env:FN_CODE}", headers: { X-Auth: "\${env:DEST_TOKEN}" } }
---
apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: signed }
spec:
  source: { maxBodyBytes: ${LIMIT}, verify: { type: standard-webhooks, secret: "\${env:VERIFY_SECRET}" } }
  destinations:
    - { name: orders, type: http, url: "http://127.0.0.1:9/signed" }
`;

/** What came back to a request sent as raw bytes: the status line's code, the headers, the body; status 0 when the connection closed unanswered. */
interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function parseAnswer(text: string): RawAnswer {
  // An interim 100 Continue (Node sends it to Expect: 100-continue) comes before the answer.
  const [head = '', ...rest] = text.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, '').split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: rest.join('\r\n\r\n') };
}

/** Writes `parts` to a new connection, `gapMs` apart, and answers whatever the server said once it closed the connection. */
function rawExchange(port: number, parts: readonly (string | Buffer)[], gapMs = 0): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (): void => resolve(parseAnswer(text));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('close', done);
    socket.on('error', () => undefined);
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        if (gapMs > 0) await new Promise((wait) => setTimeout(wait, gapMs));
      }
    })();
  });
}

/** A request with its path sent exactly as written, on a connection of its own. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorCode = (answer: RawAnswer): string | undefined => (JSON.parse(answer.body) as { error?: { code?: string } }).error?.code;

describe('the ingress against hostile input', () => {
  let fanout: FanoutProcess;
  let dir: string;
  let redis: Redis;
  let prefix: string;
  const logs: Record<string, unknown>[] = [];
  const answers: RawAnswer[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-sweep-'));
    await writeFile(join(dir, 'flows.yaml'), FLOWS);
    prefix = `sweep-${randomUUID().slice(0, 8)}`;
    const config = readConfig({
      REDIS_URL: testRedisUrl(),
      PORT: '0',
      FANOUT_FLOWS: dir,
      FANOUT_ROLES: 'ingress,dashboard',
      FANOUT_ADMIN_TOKEN: ADMIN_TOKEN,
      FANOUT_METRICS_TOKEN: METRICS_TOKEN,
      FANOUT_REDIS_PREFIX: prefix,
      FANOUT_INGRESS_MAX_BUFFERED: String(4 * LIMIT),
      FANOUT_BODY_TIMEOUT: '1s',
      FANOUT_HEADERS_TIMEOUT: '1s',
      FANOUT_REQUEST_TIMEOUT: '3s',
      FANOUT_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      FANOUT_SHUTDOWN_GRACE: '1s',
    });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    fanout = await startFanoutProcess({ config, logger: createLogger({ level: 'trace', destination: sink }), env: { FN_CODE, DEST_TOKEN, VERIFY_SECRET } });
    redis = testConnection(testRedisUrl(), 'sweep');
  });
  afterAll(async () => {
    await fanout.shutdown();
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });

  const stored = (): Promise<number> => redis.xlen(`${prefix}:{events}:stream`);

  /** A hostile input's answer, kept for the checks every answer must pass; then proof that an ordinary webhook is still taken. */
  async function sweep(answer: RawAnswer | Promise<RawAnswer>): Promise<RawAnswer> {
    const got = await answer;
    answers.push(got);
    const before = await stored();
    const control = await send(fanout.port, 'POST', '/webhooks/payments', { 'content-type': 'application/json' }, '{"type":"control"}');
    expect(control.status).toBe(202);
    expect(await stored()).toBe(before + 1);
    return got;
  }

  it('stores the stream under the prefix this test reads', async () => {
    const before = await stored();
    expect((await send(fanout.port, 'POST', '/webhooks/payments', {}, '{}')).status).toBe(202);
    expect(await stored()).toBe(before + 1);
  });

  describe('framing', () => {
    it.each([
      ['Content-Length beside Transfer-Encoding: chunked', 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
      ['two different Content-Lengths', 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!'],
      ['an unknown Transfer-Encoding', 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\nhello'],
      ['a chunked body with a bad chunk size', 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
      ['a header line without a colon', 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n'],
      ['a bare LF request line', 'POST /webhooks/payments HTTP/1.1\nHost: x\n\n'],
    ])('%s: 400 REQUEST_INVALID, with a JSON body, nothing stored', async (_case, raw) => {
      const before = await stored();
      const answer = await sweep(rawExchange(fanout.port, [raw]));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
      expect(await stored()).toBe(before + 1);
    });

    it('headers larger than 16 KiB: 431 HEADERS_TOO_LARGE', async () => {
      const answer = await sweep(rawExchange(fanout.port, [`POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`]));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 431, code: 'HEADERS_TOO_LARGE' });
    });

    it('a huge declared body with Expect: 100-continue: 413 without the body being read', async () => {
      const answer = await sweep(rawExchange(fanout.port, [`POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${1_000 * LIMIT}\r\n\r\n`]));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    });
  });

  describe('bodies', () => {
    it('a gzip bomb (64 MiB of zeros in 64 KiB): 413, never more than the limit decoded', async () => {
      const bomb = gzipSync(Buffer.alloc(64 * 1_048_576));
      expect(bomb.length).toBeLessThan(LIMIT);
      const answer = await sweep(send(fanout.port, 'POST', '/webhooks/payments', { 'content-encoding': 'gzip' }, bomb));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 413, code: 'BODY_TOO_LARGE' });
    });

    it('gzip inside gzip, declared as such: 400, an encoding fanout does not take', async () => {
      const answer = await sweep(send(fanout.port, 'POST', '/webhooks/payments', { 'content-encoding': 'gzip, gzip' }, gzipSync(gzipSync('{}'))));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
    });

    it('a body that says gzip and is not: 400', async () => {
      const answer = await sweep(send(fanout.port, 'POST', '/webhooks/payments', { 'content-encoding': 'gzip' }, 'plain text'));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 400, code: 'REQUEST_INVALID' });
    });

    it('an unsigned request to a flow that verifies: 401, nothing stored', async () => {
      const before = await stored();
      const answer = await sweep(send(fanout.port, 'POST', '/webhooks/signed', {}, '{"type":"forged"}'));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 401, code: 'SIGNATURE_INVALID' });
      expect(await stored()).toBe(before + 1);
    });

    it('forty concurrent uploads of a full body, beyond the bytes the process holds at once: the overflow gets 503 with Retry-After, the rest are stored', async () => {
      const before = await stored();
      const replies = await Promise.all(Array.from({ length: 40 }, () => send(fanout.port, 'POST', '/webhooks/payments', { 'content-length': String(LIMIT) }, Buffer.alloc(LIMIT, 'x'))));
      const statuses = replies.map(({ status }) => status);
      for (const reply of replies.filter(({ status }) => status === 503)) {
        expect({ code: errorCode(reply), retryAfter: reply.headers['retry-after'] }).toEqual({ code: 'INGRESS_BUSY', retryAfter: '1' });
      }
      expect(statuses.every((status) => status === 202 || status === 503)).toBe(true);
      expect(await stored()).toBe(before + statuses.filter((status) => status === 202).length);
      await sweep(replies.find(({ status }) => status === 503) ?? replies[0]!);
    });
  });

  describe('slow clients', () => {
    it('headers sent a byte at a time (slowloris): 408 once the headers timeout passes', async () => {
      const head = 'POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(40);
      const answer = await sweep(rawExchange(fanout.port, [...head], 50));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' });
    });

    it('a body that never finishes: 408 REQUEST_TIMEOUT once the body timeout passes, nothing stored', async () => {
      const before = await stored();
      const answer = await sweep(rawExchange(fanout.port, ['POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n', 'only part of it']));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 408, code: 'REQUEST_TIMEOUT' });
      expect(await stored()).toBe(before + 1);
    });

    it(`connections beyond FANOUT_MAX_CONNECTIONS (${MAX_CONNECTIONS}) are closed unanswered; the ingress serves again once they go`, async () => {
      const idle: Socket[] = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => new Promise<Socket>((resolve) => {
        const socket = connect(fanout.port, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => undefined);
      })));
      await new Promise((wait) => setTimeout(wait, 100));
      const refused = await rawExchange(fanout.port, ['POST /webhooks/payments HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}']);
      expect(refused).toEqual({ status: 0, headers: {}, body: '' });
      for (const socket of idle) socket.destroy();
      await new Promise((wait) => setTimeout(wait, 100));
      await sweep(refused);
    });
  });

  describe('paths and names', () => {
    it.each([
      ['/webhooks/%ff', 400, 'REQUEST_INVALID'],
      ['/webhooks/%c3%28', 400, 'REQUEST_INVALID'],
      ['/webhooks/%ed%a0%80', 400, 'REQUEST_INVALID'],
      ['/webhooks/..%2fflows', 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/%2e%2e', 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/payments%00', 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/PAYMENTS', 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/pay%0d%0aSet-Cookie:%20a=b', 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/%1b%5b31mred', 404, 'FLOW_NOT_FOUND'],
      [`/webhooks/a…(8,000 of them)`.replace('a…(8,000 of them)', 'a'.repeat(8_000)), 404, 'FLOW_NOT_FOUND'],
      ['/webhooks/payments/extra', 404, 'ROUTE_NOT_FOUND'],
      ['/webhooks', 404, 'ROUTE_NOT_FOUND'],
    ])('POST %# %s: %i %s, with a message safe to log and show', async (path, status, code) => {
      const answer = await sweep(send(fanout.port, 'POST', path, {}, '{}'));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status, code });
      const { message } = (JSON.parse(answer.body) as { error: { message: string } }).error;
      expect(message).toMatch(/^[\x20-\x7e]*$/);
      expect(message.length).toBeLessThan(200);
      expect(answer.headers['set-cookie']).toBeUndefined();
    });

    it.each(['/metrics', '/METRICS', '/metrics/', '//metrics', '/%6detrics', '/./metrics', '/webhooks/../metrics'])('GET %s without the metrics token: 401', async (path) => {
      const answer = await sweep(send(fanout.port, 'GET', path));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    });

    it('GET /metrics with the metrics token: the Prometheus text', async () => {
      const answer = await send(fanout.port, 'GET', '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('fanout_events_accepted_total{flow="payments"}');
    });

    it.each(['/flows', '/FLOWS', '//flows', '/%66lows', '/x/../flows', '/admin/queues/api/queues', '/ADMIN/queues/api/queues', '/admin//queues/api/queues'])('GET %s without the admin token: 401', async (path) => {
      const answer = await sweep(send(fanout.port, 'GET', path));
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    });
  });

  it('concurrent requests with one idempotency key: one is stored, every other is answered with its id', async () => {
    const before = await stored();
    const key = `order-${randomUUID()}`;
    const replies = await Promise.all(Array.from({ length: 25 }, (_, i) => send(fanout.port, 'POST', '/webhooks/payments', { 'idempotency-key': key }, `{"n":${i}}`)));
    const ids = new Set(replies.map(({ body }) => (JSON.parse(body) as { id: string }).id));
    expect(replies.filter(({ status }) => status === 202)).toHaveLength(1);
    expect(replies.filter(({ status, headers }) => status === 200 && headers['idempotent-replayed'] === 'true')).toHaveLength(24);
    expect(ids.size).toBe(1);
    expect(await stored()).toBe(before + 1);
    await sweep(replies[0]!);
  });

  describe('afterwards', () => {
    it('every refusal was a 4xx (or a 503 asking to retry), with a JSON error body; none was a 500', () => {
      const refusals = answers.filter(({ status }) => status >= 300);
      expect(refusals.filter(({ status }) => !(status === 503 || (status >= 400 && status < 500)))).toEqual([]);
      for (const answer of refusals) expect(errorCode(answer)).toEqual(expect.any(String));
    });

    it('nothing was logged at error level, and no secret was logged at any level', () => {
      expect(logs.filter((line) => Number(line['level']) >= 50)).toEqual([]);
      const text = JSON.stringify(logs);
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    });

    it('no answer showed a secret, GET /flows included', async () => {
      const flows = await send(fanout.port, 'GET', '/flows', { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(flows.status).toBe(200);
      expect(flows.body).toContain('code=${env:FN_CODE}');
      expect(flows.body).toContain('"X-Auth":"${env:DEST_TOKEN}"');
      for (const answer of [...answers, flows]) for (const secret of SECRETS) expect(answer.body).not.toContain(secret);
    });
  });
});
