import { describe, expect, it } from '@jest/globals';
import type { PostClient } from './baselines/post-clients.js';
import { bestGot, buildTable, formatBytes, formatMs, formatRatio, formatRate, memoryTarget, renderMarkdown, renderText, splitMemory } from './report.js';
import type { NodeResults } from './results.js';
import type { MemoryResults, MemoryRun } from './scenarios/memory.js';
import type { OrderingResults } from './scenarios/ordering.js';
import type { PipelineResults } from './scenarios/pipeline.js';

const loops: Record<PostClient, number> = { 'got-stream': 2_600, 'got-promise': 1_900, 'got-tuned': 2_100, undici: 12_500, 'node-http': 13_300 };

function results(label: string, express: number): NodeResults {
  const run = (perSecond: number) => ({ perSecond, p50: 3.2, p99: 12, non2xx: 0, errors: 0, total: perSecond * 5 });
  return {
    node: { path: '/usr/bin/node', version: `v${label}`, label: `Node ${label}` },
    ingest: { fanout: run(3_000), express: run(express), http: run(14_500) },
    fanout: [{ destinations: 1, fanout: 9_000, addBulk: 11_000, cpuUsPerJob: { fanout: 80, addBulk: 40 } }],
    delivery: { fanout: 5_000, noopWorker: 8_900, loops, redisPerJob: { fanout: [], noopWorker: [] }, cpuUsPerJob: { fanout: 150, noopWorker: 60 }, machineCpuUsPerJob: { fanout: { worker: 150, redis: 90, sink: 40 }, noopWorker: { worker: 60, redis: 50, sink: 0 } }, cpuUsPerPost: {} },
  };
}

describe('formats', () => {
  it('reads at a glance', () => {
    expect(formatRate(12_345.6, ' req/s')).toBe('12,346 req/s');
    expect(formatMs(2.345)).toBe('2.3 ms');
    expect(formatMs(123.4)).toBe('123 ms');
    expect(formatRatio(0.8049)).toBe('0.80×');
    expect(formatRatio(Number.NaN)).toBe('–');
    expect(formatBytes(1_536)).toBe('1,536 B');
    expect(formatBytes(50 * 1024)).toBe('50 KiB');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300 MiB');
  });
});

describe('bestGot', () => {
  it('picks the fastest got configuration', () => {
    expect(bestGot(loops)).toEqual({ client: 'got-stream', perSecond: 2_600 });
    expect(bestGot({ 'got-tuned': 900, undici: 12_000 })).toEqual({ client: 'got-tuned', perSecond: 900 });
    expect(bestGot({ undici: 12_000 })).toBeUndefined();
  });
});

describe('buildTable', () => {
  const table = buildTable([results('20.20.2', 3_500), results('24.22.3', 9_400)]);
  const row = (label: string) => table.rows.find((r) => r.label.startsWith(label));

  it('has a column pair per Node', () => {
    expect(table.nodes).toEqual(['Node 20.20.2', 'Node 24.22.3']);
    expect(row('fanout ingress')?.cells).toHaveLength(2);
  });

  it('gives each ratio against the baseline of the same Node, with its verdict', () => {
    const [node20, node24] = row('fanout ingress')!.cells;
    expect(node20).toMatchObject({ ratio: '0.86× Express, 0.21× node:http', met: true });
    expect(node24).toMatchObject({ ratio: '0.32× Express, 0.21× node:http', met: false });
    expect(row('fanout dispatcher, 1 destination')?.cells[0]).toMatchObject({ value: '9,000 jobs/s, 80 µs CPU/job', ratio: '0.82× addBulk', met: true });
    expect(row('fanout workers')?.cells[0]).toMatchObject({ ratio: '0.56× no-op worker', met: true });
    expect(row('best got')?.cells[0]).toMatchObject({ value: 'got-stream', ratio: '0.20×', met: false });
    expect(row('CPU per delivery')?.cells[0]).toMatchObject({ value: '280 µs (worker 150 + Redis 90 + sink 40) against 110 µs (worker 60 + Redis 50 + sink 0)', ratio: '0.39× of the no-op\'s CPU cost' });
  });

  it('compares each destination type with its raw client loop, against its own target', () => {
    const destinations = [
      { kind: 's3-batch' as const, fanout: 8_500, raw: 10_000, cpuUs: { fanout: 110, raw: 3 } },
      { kind: 'amqp' as const, fanout: 6_000, raw: 10_000, cpuUs: { fanout: 120, raw: 15 } },
    ];
    const rows = buildTable([{ ...results('20.20.2', 3_500), destinations: { runs: destinations, noopWorker: 9_100 } }]).rows;
    const cell = (label: string) => rows.find((r) => r.label.startsWith(label))?.cells[0];
    expect(cell('s3, batches')).toMatchObject({ value: '8,500/s, 110 µs CPU/delivery', ratio: '0.85× raw', met: true });
    expect(cell('raw PutObject of the same NDJSON')).toMatchObject({ value: '10,000 events/s, 3 µs CPU/event' });
    expect(cell('amqp')).toMatchObject({ ratio: '0.60× raw', met: false });
    expect(rows.find((r) => r.label.startsWith('amqp'))?.target).toBe('≥ 0.7× raw');
    expect(cell('nats')).toBeUndefined();
    expect(cell('BullMQ Worker, no-op processor, concurrency 100: the ceiling')).toMatchObject({ value: '9,100 jobs/s' });
  });

  it('gives no isolation verdict when the run without the dead destination was already saturated', () => {
    const latency = (p99: number) => latencyRun(p99);
    const isolated = (without: number, withDead: number) => buildTable([{ ...results('20.20.2', 3_500), isolation: { without: [latency(without)], with: [latency(withDead)] } }]).rows.find((r) => r.label.startsWith('healthy'))!.cells[0];
    expect(isolated(10, 11)).toMatchObject({ ratio: '1.10×', met: true });
    expect(isolated(10, 15)).toMatchObject({ ratio: '1.50×', met: false });
    expect(isolated(5_000, 4_000)).toEqual(expect.objectContaining({ ratio: '0.80×, inconclusive: saturated without it' }));
    expect(isolated(5_000, 4_000)?.met).toBeUndefined();
  });

  it('compares the median p99 of alternated isolation runs', () => {
    const cell = buildTable([{ ...results('24.22.3', 9_000), isolation: { without: [20, 40, 22].map(latencyRun), with: [60, 21, 23].map(latencyRun) } }]).rows.find((r) => r.label.startsWith('healthy'))!.cells[0];
    expect(cell).toMatchObject({ ratio: '1.05×', met: true });
    expect(cell?.value).toContain('medians of 3 runs each, alternated: 20 ms, 40 ms, 22 ms → 60 ms, 21 ms, 23 ms');
  });

  it('shows a latency run against the budget, with its stages', () => {
    const cell = (p99: number) => buildTable([{ ...results('24.22.3', 9_000), latency: [latencyRun(p99)] }]).rows.find((r) => r.label === '500 events/s')!.cells[0];
    expect(cell(20)).toMatchObject({ met: true });
    expect(cell(30)).toMatchObject({ met: false });
    expect(cell(20)?.value).toBe('p50 4.0 ms, p99 20 ms, p99.9 20 ms; p50 / p99 by stage: accept 1.0 ms / 2.0 ms, to the worker 5.0 ms / 17 ms (the dispatcher\'s part 3.0 ms / 12 ms over the newest 1), send 4.0 ms / 6.0 ms');
  });

  it('leaves out what was not measured', () => {
    expect(row('Latency')).toBeUndefined();
    expect(table.rows.some((r) => r.section.startsWith('Memory'))).toBe(false);
  });

  it('renders as text and as Markdown with one heading row per section', () => {
    const text = renderText(table);
    expect(text).toContain('Ingest: POST 1 KB JSON, 50 connections');
    expect(text).toContain('0.86× Express, 0.21× node:http ✓');
    const markdown = renderMarkdown(table).split('\n');
    expect(markdown[0]).toBe('|  | Node 20.20.2 | ratio | Node 24.22.3 | ratio | target |');
    expect(markdown.filter((line) => line.startsWith('| **'))).toHaveLength(3);
    expect(new Set(markdown.map((line) => line.replace(/\\\|/g, '').split('|').length)).size).toBe(1);
  });
});

describe('memory rows', () => {
  const queues = { wait: 0, active: 0, delayed: 0, completed: 1_000, failed: 0, events: 10_000, eventsMaxLen: 10_000 };
  const delivered = (destinations: number, perEvent: number, records: number): MemoryRun => ({
    destinations,
    inFlightEvents: 400,
    inFlightPerEvent: 2_900,
    payloadCopies: 1.06,
    delivered: { events: 10_000, perEvent, parts: { bullJobs: 150 * destinations, bullEvents: 80 * destinations, attemptLogs: 0, deadLetterCopies: 0, records, stream: 1_200, rest: 0 }, queues: { ...queues, completed: 1_000 * destinations, events: 10_000 * destinations } },
  });
  const memory: MemoryResults = {
    payloadBytes: 1024,
    runs: [delivered(1, 1_700, 300), delivered(8, 4_000, 640)],
    failing: {
      events: 1_000,
      perEvent: 7_000,
      parts: { bullJobs: 1_500, bullEvents: 900, attemptLogs: 900, deadLetterCopies: 1_900, records: 400, stream: 1_200, rest: 0 },
      queues: { ...queues, completed: 0, failed: 1_000 },
      attempts: 3,
      errorPageBytes: 8_192,
      attemptsSeen: 3_000,
    },
  };
  const table = buildTable([{ ...results('20.20.2', 3_500), memory }]);
  const cell = (label: string) => table.rows.find((r) => r.label === label)?.cells[0];

  it('writes the target as 1.2 payloads and 200 B per destination', () => {
    expect(memoryTarget(1024, 1)).toBeCloseTo(1_428.8);
    expect(memoryTarget(1024, 8)).toBeCloseTo(2_828.8);
  });

  it('splits a run into what is beyond the records and BullMQ\'s sets, and the records per destination', () => {
    expect(splitMemory(memory.runs[1]!)).toEqual({ payloadPart: 4_000 - 640 - 1_200 - 640, recordsPerDestination: 80 });
  });

  it('judges each delivered run against the target, and its split against each half of it', () => {
    expect(cell('1 destination: after 10,000 delivered 1 KB events, records kept')).toEqual({
      value: '1,700 B per event: stream 1,200 B, records 300 B, BullMQ\'s bounded sets 230 B (1,000 completed jobs and 10,000 events per queue), the rest -30 B',
      ratio: '1.19× of 1,429 B',
      met: false,
    });
    expect(cell('8 destinations: after 10,000 delivered 1 KB events, records kept')).toMatchObject({ ratio: '1.41× of 2,829 B', met: false });
    expect(cell('1 destination: the payload part, and records per destination')).toMatchObject({ ratio: '1.14× payload, 1.50× of 200 B', met: false });
    expect(cell('8 destinations: the payload part, and records per destination')).toEqual({
      value: '1,520 B beyond the records and BullMQ\'s sets (the stream and the rest); 80 B of records per destination',
      ratio: '1.48× payload, 0.40× of 200 B',
      met: false,
    });
    expect(cell('8 destinations: in flight, jobs waiting (1 KB events)')).toEqual({ value: '2,900 B', ratio: '1.06 payload copies', met: true });
  });

  it('shows where a failing destination\'s bytes go, as payloads, with no verdict', () => {
    expect(cell('a destination answering 500 with an 8,192 B page, 3 attempts: 1,000 events dead-lettered')).toEqual({
      value: '7,000 B per event: stream 1,200 B, record 400 B, attempt log 900 B, dead-letter copy 1,900 B, BullMQ\'s failed job 1,500 B, its events stream 900 B, the rest 200 B',
      ratio: '6.84 payloads',
    });
  });
});

describe('all-in-one rows', () => {
  const run = (perSecond: number, process: number) => ({ perSecond, ingestSeconds: 2, seconds: 10_000 / perSecond, cpuUsPerEvent: { process, redis: 150, bench: 100 } });
  const pipeline: PipelineResults = { events: 10_000, connections: 50, destinations: 2, fanout: run(1_800, 450), bare: run(2_400, 350) };
  const table = buildTable([{ ...results('20.20.2', 3_500), pipeline }]);
  const row = (label: string) => table.rows.find((r) => r.label.startsWith(label));

  it('gives fanout\'s rate as a ratio of the bare pipeline\'s, with the CPU of every process per event', () => {
    expect(row('fanout start')?.section).toBe('All in one: 10,000 events of 1 KB from 50 connections, taken and delivered to 2 destinations at once');
    expect(row('fanout start')?.cells[0]).toEqual({ value: '1,800 events/s delivered to both, 450 µs CPU/event; all taken in 2.0 s, delivered in 5.6 s', ratio: '0.75× bare pipeline' });
    expect(row('bare pipeline')?.cells[0]).toEqual({ value: '2,400 events/s delivered to both, 350 µs CPU/event; all taken in 2.0 s, delivered in 4.2 s' });
    expect(row('CPU per event')?.cells[0]).toEqual({
      value: '700 µs (fanout 450 + Redis 150 + load and sink 100) against 600 µs (bare 350 + Redis 150 + load and sink 100)',
      ratio: '0.86× of the bare pipeline\'s CPU cost',
    });
  });
});

describe('ordering rows', () => {
  const summary = (p50: number, p99: number) => ({ latency: { count: 100, p50, p99, p999: p99, max: p99 }, missing: 0 });
  const ordering: OrderingResults = {
    fifo: { perSecond: 400, cpuUsPerDelivery: 310, redisPerDelivery: [{ command: 'evalsha', calls: 5, usec: 90 }, { command: 'hgetall', calls: 1, usec: 5 }, { command: 'ping', calls: 0.01, usec: 0 }], postRoundTripMs: 0.15, redisRoundTripMs: 0.05 },
    keyed: { keys: 100, concurrency: 50, keyed: [1_900, 2_100, 1_500].map((perSecond) => ({ perSecond, cpuUsPerDelivery: 200, redisPerDelivery: [] })), none: [3_000, 2_800, 2_500].map((perSecond) => ({ perSecond, cpuUsPerDelivery: 150, redisPerDelivery: [] })) },
    slowKey: { rate: 100, delayMs: 1_000, without: [summary(4, 20), summary(5, 30), summary(4, 25)], with: [summary(5, 28), summary(4, 26), summary(5, 40)] },
  };
  const table = buildTable([{ ...results('20.20.2', 3_500), ordering }]);
  const row = (label: string) => table.rows.find((r) => r.label.startsWith(label));

  it('reads fifo against 1 ÷ (POST + Redis round trip) of the same run', () => {
    expect(row('fifo')?.cells[0]).toEqual({ value: '400/s (2.5 ms per delivery), 310 µs CPU/delivery', ratio: '0.08× of 1 ÷ (POST + Redis round trip)' });
    expect(row('fifo: Redis per delivery')?.cells[0]).toEqual({ value: '5.0 scripts, 1.0 HGETALL (BullMQ\'s getJob, and inside its scripts); 6 commands in all, the scripts\' included' });
    expect(row('1 ÷ (POST')?.cells[0]).toEqual({ value: '5,000/s: POST 150 µs (undici, one at a time) + PING 50 µs' });
  });

  it('compares the medians of alternated keyed and unordered runs, and the other keys\' median p99 with a slow key', () => {
    expect(row('ordering { key }')?.cells[0]).toMatchObject({ value: expect.stringContaining('1,900/s') as unknown, ratio: '0.68× none', met: false });
    expect(row('ordering none')?.cells[0]).toEqual({ value: '2,800/s, 150 µs CPU/delivery' });
    expect(row('the other keys')?.cells[0]).toMatchObject({ ratio: '1.12×', met: true });
  });
});

function latencyRun(p99: number) {
  const summary = (p50: number, p99: number) => ({ count: 1, p50, p99, p999: p99, max: p99 });
  return {
    label: '500 events/s',
    rate: 500,
    sentPerSecond: 500,
    latency: summary(4, p99),
    missing: 0,
    refused: 0,
    stages: { accept: summary(1, 2), toWorker: summary(5, 17), send: summary(4, 6), dispatch: summary(3, 12) },
  };
}
