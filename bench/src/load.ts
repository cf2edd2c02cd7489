import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { Pool } from 'undici';

/** A JSON body of exactly `bytes` bytes, with a sequence number (so every event differs) and, for keyed ordering, a key. */
export function eventBody(bytes: number, seq = 0, key?: string): Buffer {
  const head = `{"type":"bench.event","seq":${seq},${key === undefined ? '' : `"key":"${key}",`}"pad":"`;
  const tail = '"}';
  const padding = Math.max(0, bytes - head.length - tail.length);
  return Buffer.from(`${head}${'x'.repeat(padding)}${tail}`);
}

export interface ClosedLoopResult {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
  /** Requests answered, the warm-up's included. */
  readonly total: number;
  /** CPU the server under test used per request (user + system, µs), warm-up included. */
  cpuUsPerRequest?: number;
}

/** autocannon: `connections` clients POSTing `body` back to back; the first `warmupMs` are not counted. */
export async function closedLoop(url: string, body: Buffer, connections: number, warmupMs: number, durationMs: number): Promise<ClosedLoopResult> {
  const common = { url, method: 'POST' as const, body, headers: { 'content-type': 'application/json' }, connections };
  // autocannon counts whole seconds; a sub-second warm-up (--quick) is skipped.
  const warmup = warmupMs >= 1_000 ? await autocannon({ ...common, duration: Math.max(1, Math.round(warmupMs / 1000)) }) : undefined;
  const result = await autocannon({ ...common, duration: Math.max(1, Math.round(durationMs / 1000)) });
  return {
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    total: result.requests.total + (warmup?.requests.total ?? 0),
  };
}

export interface OpenLoopResult {
  /** When each accepted event was sent (performance.now()), by event id. */
  readonly sentAt: Map<string, number>;
  /** Each accepted event's sequence number, by event id. */
  readonly seqs: Map<string, number>;
  readonly refused: number;
  readonly achievedPerSecond: number;
}

/**
 * Open loop: POSTs at a fixed rate whatever the answers, for `durationMs`, and remembers
 * when each accepted event was sent. Send times and the sink's arrival times are both
 * `performance.now()` in this process, so no clocks need syncing.
 */
export async function openLoop(url: string, rate: number, durationMs: number, bodyBytes: number, keyOf?: (seq: number) => string): Promise<OpenLoopResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections: 256, keepAliveTimeout: 30_000 });
  const sentAt = new Map<string, number>();
  const seqs = new Map<string, number>();
  let refused = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < durationMs) {
    const due = Math.floor(((performance.now() - started) * rate) / 1000);
    while (sent < due) {
      const seq = sent++;
      const body = eventBody(bodyBytes, seq, keyOf?.(seq));
      const at = performance.now();
      inFlight.push(
        pool.request({ path: target.pathname, method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(
          async ({ statusCode, body: answer }) => {
            if (statusCode !== 202) {
              refused++;
              await answer.dump();
              return;
            }
            const { id } = (await answer.json()) as { id: string };
            sentAt.set(id, at);
            seqs.set(id, seq);
          },
          () => void refused++,
        ),
      );
    }
    await sleep(1);
  }
  const elapsed = performance.now() - started;
  await Promise.all(inFlight);
  await pool.close();
  return { sentAt, seqs, refused, achievedPerSecond: (sent * 1000) / elapsed };
}

/** POSTs `count` events of `bytes` bytes (sequence numbers 0…), `connections` at a time, and checks that every one was accepted (202). */
export async function postEvents(url: string, count: number, bytes: number, connections: number): Promise<void> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections });
  let next = 0;
  const sendNext = async (): Promise<void> => {
    while (next < count) {
      const seq = next++;
      const { statusCode, body } = await pool.request({ path: target.pathname, method: 'POST', body: eventBody(bytes, seq), headers: { 'content-type': 'application/json' } });
      await body.dump();
      if (statusCode !== 202) throw new Error(`${url} answered ${statusCode} to event ${seq}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, sendNext));
  await pool.close();
}
