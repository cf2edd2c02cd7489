import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { startLoad, webhookIdOf, type LoadOptions } from '../src/load-generator.js';

/** An ingress stand-in on loopback: answers each request by a script, given the request's seq, its try and its webhook-id. */
async function scriptedIngress(answer: (seq: number, tryNumber: number, webhookId: string | undefined) => { status: number; body: unknown }): Promise<{ url: string; server: Server }> {
  const tries = new Map<number, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const { seq } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { seq: number };
      const tryNumber = (tries.get(seq) ?? 0) + 1;
      tries.set(seq, tryNumber);
      const header = req.headers['webhook-id'];
      const { status, body } = answer(seq, tryNumber, typeof header === 'string' ? header : undefined);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const error = (code: string, message = code): { error: { code: string; message: string } } => ({ error: { code, message } });
const base = (url: string): Omit<LoadOptions, 'count'> => ({ target: () => url, flow: 'faults', ratePerSecond: 1_000, concurrency: 4, timeoutMs: 2_000, typeOf: () => 't' });

describe('startLoad', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it("classifies the ingress's answers: 'not stored' codes are refusals, REDIS_TIMEOUT is in doubt", async () => {
    const codes: Record<number, [number, unknown]> = {
      1: [202, { id: 'evt_1' }],
      2: [503, error('REDIS_UNAVAILABLE')],
      3: [503, error('REDIS_MEMORY_FULL')],
      4: [503, error('SHUTTING_DOWN')],
      5: [503, error('REDIS_TIMEOUT')],
      6: [500, error('INTERNAL')],
      7: [503, error('REDIS_READONLY')],
    };
    const ingress = await scriptedIngress((seq) => ({ status: codes[seq]![0], body: codes[seq]![1] }));
    server = ingress.server;
    const load = startLoad({ ...base(ingress.url), count: 7 });
    await load.done;
    expect([...load.outcomes].sort(([a], [b]) => a - b).map(([, outcome]) => [outcome.kind, outcome.kind === 'acked' ? outcome.id : outcome.reason, outcome.via])).toEqual([
      ['acked', 'evt_1', ingress.url],
      ['refused', 'REDIS_UNAVAILABLE', ingress.url],
      ['refused', 'REDIS_MEMORY_FULL', ingress.url],
      ['refused', 'SHUTTING_DOWN', ingress.url],
      ['indeterminate', 'REDIS_TIMEOUT', ingress.url],
      ['indeterminate', 'INTERNAL', ingress.url],
      ['refused', 'REDIS_READONLY', ingress.url],
    ]);
    expect(load.answers).toHaveLength(7);
  });

  it('with webhook-ids, sends a request in doubt again until it is answered, and takes a 200 as acked with the first id', async () => {
    const sentIds: (string | undefined)[] = [];
    const ingress = await scriptedIngress((seq, tryNumber, webhookId) => {
      if (seq === 1) sentIds.push(webhookId);
      if (tryNumber === 1) return { status: 503, body: error('REDIS_TIMEOUT') };
      return { status: 200, body: { id: `evt_${seq}` } };
    });
    server = ingress.server;
    const load = startLoad({ ...base(ingress.url), count: 2, webhookIds: true, retryInDoubtMs: 5_000 });
    await load.done;
    expect(load.outcomes.get(1)).toEqual({ kind: 'acked', id: 'evt_1', replayed: true, via: ingress.url });
    expect(load.answers.filter((answer) => answer.seq === 1).map((answer) => answer.code)).toEqual(['REDIS_TIMEOUT', '200']);
    expect(sentIds).toEqual([webhookIdOf('faults', 1), webhookIdOf('faults', 1)]);
  });

  it('leaves a request in doubt when no answer settles it within the retry time', async () => {
    const ingress = await scriptedIngress(() => ({ status: 503, body: error('REDIS_TIMEOUT') }));
    server = ingress.server;
    const load = startLoad({ ...base(ingress.url), count: 1, webhookIds: true, retryInDoubtMs: 1_500 });
    await load.done;
    expect(load.outcomes.get(1)).toMatchObject({ kind: 'indeterminate', reason: 'REDIS_TIMEOUT' });
    expect(load.answers.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses to send requests in doubt again without webhook-ids', () => {
    expect(() => startLoad({ ...base('http://127.0.0.1:9'), count: 1, retryInDoubtMs: 1_000 })).toThrow(/needs webhookIds/);
  });
});
