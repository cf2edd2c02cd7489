/**
 * Baseline: a bare HTTP client loop POSTing the delivery body to the sink as fast as it
 * answers, `concurrency` requests in flight, with one of the clients the sender could use.
 * Counts the answers in the measured window (after a warm-up).
 */
import http from 'node:http';
import got, { type Got } from 'got';
import { Agent, request as undiciRequest } from 'undici';
import { announce, childOptions } from '../child.js';
import type { PostClient, PostLoopOptions } from './post-clients.js';


type Post = (body: Buffer, headers: Record<string, string>) => Promise<number>;

function gotStream(agent: http.Agent): Post {
  // As packages/destinations did it: the stream API, so the answer's body is never buffered whole.
  return (body, headers) =>
    new Promise((resolve, reject) => {
      const stream = got.stream.post(options.url, { body, headers, agent: { http: agent }, timeout: { request: 10_000 }, followRedirect: false, retry: { limit: 0 }, throwHttpErrors: false });
      let status = 0;
      stream.on('response', (response: { statusCode: number }) => (status = response.statusCode));
      stream.on('data', () => {});
      stream.on('end', () => resolve(status));
      stream.on('error', reject);
    });
}

function gotPromise(agent: http.Agent): Post {
  return async (body, headers) => {
    const response = await got.post(options.url, { body, headers, agent: { http: agent }, timeout: { request: 10_000 }, followRedirect: false, retry: { limit: 0 }, throwHttpErrors: false });
    return response.statusCode;
  };
}

/** The leanest got we found: one extended instance, everything optional switched off. */
function gotTuned(agent: http.Agent): Post {
  const client: Got = got.extend({
    agent: { http: agent },
    http2: false,
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    decompress: false,
    cache: false,
    dnsCache: false,
    responseType: 'buffer',
    timeout: { request: 10_000 },
    hooks: { init: [], beforeRequest: [], beforeRedirect: [], beforeError: [], beforeRetry: [], afterResponse: [] },
  });
  return async (body, headers) => (await client.post(options.url, { body, headers })).statusCode;
}

function undici(): Post {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: options.concurrency });
  return async (body, headers) => {
    const { statusCode, body: answer } = await undiciRequest(options.url, { method: 'POST', body, headers, dispatcher, headersTimeout: 10_000, bodyTimeout: 10_000 });
    await answer.dump();
    return statusCode;
  };
}

function nodeHttp(agent: http.Agent): Post {
  const url = new URL(options.url);
  return (body, headers) =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(body);
    });
}

function clientFor(client: PostClient): Post {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  switch (client) {
    case 'got-stream':
      return gotStream(agent);
    case 'got-promise':
      return gotPromise(agent);
    case 'got-tuned':
      return gotTuned(agent);
    case 'undici':
      return undici();
    case 'node-http':
      return nodeHttp(agent);
  }
}

const options = childOptions<PostLoopOptions>();

async function main(): Promise<void> {
  const post = clientFor(options.client);
  const body = Buffer.alloc(options.bodyBytes, 'x');
  body.write('{"bench":"post-loop","pad":"');
  body.write('"}', options.bodyBytes - 2);
  const headers = { 'content-type': 'application/json', 'webhook-id': 'evt_bench', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'user-agent': 'fanout' };
  announce({ ready: {} });
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const until = measureFrom + options.durationMs;
  let counted = 0;
  let total = 0;
  let failed = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      try {
        await post(body, headers);
        total++;
        const now = performance.now();
        if (now >= measureFrom && now < until) counted++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const cpu = process.cpuUsage(cpuAtStart);
  announce({ result: { perSecond: counted / (options.durationMs / 1000), count: counted, total, failed, cpuUsPerPost: (cpu.user + cpu.system) / Math.max(1, total) } });
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
