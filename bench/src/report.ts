import type { PostClient } from './baselines/post-clients.js';
import type { BenchRun, NodeResults } from './results.js';
import type { LatencyStages } from './latency-stages.js';
import type { MachineCpu } from './scenarios/delivery.js';
import type { LatencyRun } from './scenarios/latency.js';
import type { MemoryRun, SettledRun } from './scenarios/memory.js';
import type { KeyedLatency, PreloadedRun } from './scenarios/ordering.js';
import type { PipelineRun } from './scenarios/pipeline.js';
import { ratio, type LatencySummary } from './stats.js';

/** One cell per Node: the figure, and where it has one, its ratio and whether it meets its target. */
export interface Cell {
  readonly value: string;
  readonly ratio?: string;
  readonly met?: boolean;
}

export interface Row {
  readonly section: string;
  readonly label: string;
  readonly cells: readonly (Cell | undefined)[];
  readonly target?: string;
}

export interface Table {
  readonly nodes: readonly string[];
  readonly rows: readonly Row[];
}

// ---- number formats -------------------------------------------------------------------

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

export function formatRate(n: number, unit = '/s'): string {
  return `${formatCount(n)}${unit}`;
}

/** Milliseconds with two significant digits below 10, whole above. */
export function formatMs(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n < 10) return `${n.toFixed(1)} ms`;
  return `${Math.round(n).toLocaleString('en-US')} ms`;
}

const sum = ({ worker, redis, sink }: MachineCpu): number => worker + redis + sink;

/** The run with the median p99 (the higher of the two middle ones). */
function medianRun<Run extends { readonly latency: LatencySummary }>(runs: readonly Run[]): Run {
  return [...runs].sort((a, b) => a.latency.p99 - b.latency.p99)[Math.floor(runs.length / 2)]!;
}

/** The median of some rates (the higher of the two middle ones). */
function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
}

/** p50/p99 of each stage of the latency runs' deliveries. */
function formatStages({ accept, toWorker, send, dispatch }: LatencyStages): string {
  const stage = ({ p50, p99 }: LatencySummary): string => `${formatMs(p50)} / ${formatMs(p99)}`;
  return `p50 / p99 by stage: accept ${stage(accept)}, to the worker ${stage(toWorker)} (the dispatcher's part ${stage(dispatch)} over the newest ${dispatch.count.toLocaleString('en-US')}), send ${stage(send)}`;
}

/** A round trip well below a millisecond, in µs. */
function formatMicros(ms: number): string {
  return Number.isFinite(ms) ? `${Math.round(ms * 1000).toLocaleString('en-US')} µs` : '–';
}

export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) < 10 * 1024) return `${Math.round(n).toLocaleString('en-US')} B`;
  if (Math.abs(n) < 10 * 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / 1024 / 1024).toFixed(0)} MiB`;
}

// ---- targets ---------------------------------------------------------------------------

/** The budget of issue 4, as ratios against the baselines of the same run. */
export const TARGETS = {
  ingestVsExpress: 0.8,
  fanoutVsAddBulk: 0.8,
  deliveryVsNoop: 0.5,
  deliveryVsNoopStretch: 0.8,
  /** got stays the client only if its best configuration reaches this share of node:http. */
  gotVsNodeHttp: 0.7,
  latencyRate: 500,
  latencyP50Ms: 5,
  latencyP99Ms: 25,
  isolationP99: 1.2,
  /** Payload copies per event: "about one payload per event, not one per destination". */
  payloadCopies: 1.25,
  /** Issue 8: Redis holds at most this many payloads per event, plus `memoryPerDestination` per destination, while its record is kept. */
  memoryPayloads: 1.2,
  /** Bytes per destination per event, the records' part of the same target. */
  memoryPerDestination: 200,
  /** Issue 11: each destination type against its client library alone, in the same run. */
  destinationsVsRaw: { 's3-batch': 0.8, 's3-object': 0.7, amqp: 0.7, nats: 0.7 },
  /** Issue 10: a destination ordered by 100 keys at concurrency 50 against ordering none at the same concurrency. */
  keyedVsNone: 0.7,
  /** Issue 10: the other keys' p99 with a slow key (1 s per request) against without. */
  slowKeyP99: 1.2,
} as const;

/** A run whose p99 is this many times the latency target is taken as saturated. */
const SATURATED_FACTOR = 4;

const GOT_CLIENTS: readonly PostClient[] = ['got-stream', 'got-promise', 'got-tuned'];

export function bestGot(loops: Partial<Record<PostClient, number>>): { client: PostClient; perSecond: number } | undefined {
  return GOT_CLIENTS.flatMap((client) => (loops[client] === undefined ? [] : [{ client, perSecond: loops[client] }])).reduce<{ client: PostClient; perSecond: number } | undefined>(
    (best, next) => (best && best.perSecond >= next.perSecond ? best : next),
    undefined,
  );
}

const CLIENT_LABELS: Record<PostClient, string> = {
  'got-stream': 'got 14, stream API (the old sender)',
  'got-promise': 'got 14, promise API',
  'got-tuned': 'got 14, tuned got.extend',
  undici: 'undici.request, Agent (fanout\'s sender now)',
  'node-http': 'node:http, keep-alive Agent',
};

/** Issue 8's memory target for an event with this many destinations, in bytes. */
export function memoryTarget(payloadBytes: number, destinations: number): number {
  return TARGETS.memoryPayloads * payloadBytes + TARGETS.memoryPerDestination * destinations;
}

/**
 * A delivered run's memory per event read the way the target is written: the part beyond the
 * records and BullMQ's bounded sets (the payload with its stream entry), and the records per
 * destination.
 */
export function splitMemory({ destinations, delivered: { perEvent, parts } }: MemoryRun): { payloadPart: number; recordsPerDestination: number } {
  return { payloadPart: perEvent - parts.records - parts.bullJobs - parts.bullEvents, recordsPerDestination: parts.records / destinations };
}

/**
 * What the deletions did not account for: the keys of no kind of their own, and the growth of
 * Redis's own tables (the keyspace's hash tables are not shrunk as keys are deleted).
 */
export function unattributed({ perEvent, parts }: SettledRun): number {
  return perEvent - parts.stream - parts.records - parts.attemptLogs - parts.deadLetterCopies - parts.bullJobs - parts.bullEvents;
}

// ---- the table -------------------------------------------------------------------------

type CellOf = (results: NodeResults) => Cell | undefined;

/** `, 123 µs CPU/req`: what the process under test spent per operation, less sensitive to a noisy machine than its rate. */
function cpu(us: number | undefined, unit: string): string {
  return us === undefined || !Number.isFinite(us) ? '' : `, ${Math.round(us)} µs CPU/${unit}`;
}

export function buildTable(nodes: readonly NodeResults[]): Table {
  const rows: Row[] = [];
  const add = (section: string, label: string, cellOf: CellOf, target?: string): void => {
    const cells = nodes.map((results) => cellOf(results));
    if (cells.some(Boolean)) rows.push({ section, label, cells, ...(target ? { target } : {}) });
  };

  const ingest = 'Ingest: POST 1 KB JSON, 50 connections';
  const ingestCell = (pick: 'fanout' | 'express' | 'http') => (r: NodeResults): Cell | undefined => {
    const run = r.ingest?.[pick];
    return run ? { value: `${formatRate(run.perSecond, ' req/s')}, p50 ${formatMs(run.p50)}, p99 ${formatMs(run.p99)}${cpu(run.cpuUsPerRequest, 'req')}${run.non2xx + run.errors > 0 ? `, ${run.non2xx + run.errors} failed` : ''}` } : undefined;
  };
  add(ingest, 'fanout ingress (POST /webhooks/:flow)', (r) => {
    const cell = ingestCell('fanout')(r);
    if (!cell || !r.ingest) return undefined;
    const vsExpress = ratio(r.ingest.fanout.perSecond, r.ingest.express.perSecond);
    return { ...cell, ratio: `${formatRatio(vsExpress)} Express, ${formatRatio(ratio(r.ingest.fanout.perSecond, r.ingest.http.perSecond))} node:http`, met: vsExpress >= TARGETS.ingestVsExpress };
  }, `≥ ${TARGETS.ingestVsExpress}× Express+XADD`);
  add(ingest, 'Express 5 + express.raw + XADD', ingestCell('express'));
  add(ingest, 'node:http + XADD', ingestCell('http'));

  const fanout = 'Fan-out: jobs created/s, dispatcher alone on a preloaded stream';
  for (const destinations of [1, 4, 16]) {
    add(fanout, `fanout dispatcher, ${destinations} destination${destinations > 1 ? 's' : ''}`, (r) => {
      const run = r.fanout?.find((f) => f.destinations === destinations);
      if (!run) return undefined;
      const vs = ratio(run.fanout, run.addBulk);
      return { value: `${formatRate(run.fanout, ' jobs/s')}${cpu(run.cpuUsPerJob?.fanout, 'job')}`, ratio: `${formatRatio(vs)} addBulk`, met: vs >= TARGETS.fanoutVsAddBulk };
    }, `≥ ${TARGETS.fanoutVsAddBulk}× raw addBulk`);
    add(fanout, `raw BullMQ addBulk, ${destinations} queue${destinations > 1 ? 's' : ''}`, (r) => {
      const run = r.fanout?.find((f) => f.destinations === destinations);
      return run ? { value: `${formatRate(run.addBulk, ' jobs/s')}${cpu(run.cpuUsPerJob?.addBulk, 'job')}` } : undefined;
    });
  }

  const delivery = 'Delivery: deliveries/s to the sink, 2 destinations';
  add(delivery, 'fanout workers (concurrency 100 per destination)', (r) => {
    if (!r.delivery) return undefined;
    const vs = ratio(r.delivery.fanout, r.delivery.noopWorker);
    return { value: `${formatRate(r.delivery.fanout)}${cpu(r.delivery.cpuUsPerJob?.fanout, 'delivery')}`, ratio: `${formatRatio(vs)} no-op worker${vs >= TARGETS.deliveryVsNoopStretch ? ' (stretch met)' : ''}`, met: vs >= TARGETS.deliveryVsNoop };
  }, `≥ ${TARGETS.deliveryVsNoop}× no-op (stretch ${TARGETS.deliveryVsNoopStretch}×)`);
  add(delivery, 'BullMQ Worker, no-op processor, concurrency 100, per queue', (r) => (r.delivery ? { value: `${formatRate(r.delivery.noopWorker, ' jobs/s')}${cpu(r.delivery.cpuUsPerJob?.noopWorker, 'job')}` } : undefined));
  add(delivery, 'CPU per delivery of every process: fanout against the no-op worker', (r) => {
    const machine = r.delivery?.machineCpuUsPerJob;
    if (!machine) return undefined;
    const line = ({ worker, redis, sink }: MachineCpu): string => `${Math.round(worker + redis + sink)} µs (worker ${Math.round(worker)} + Redis ${Math.round(redis)} + sink ${Math.round(sink)})`;
    return { value: `${line(machine.fanout)} against ${line(machine.noopWorker)}`, ratio: `${formatRatio(ratio(sum(machine.noopWorker), sum(machine.fanout)))} of the no-op's CPU cost` };
  });
  for (const client of Object.keys(CLIENT_LABELS) as PostClient[]) {
    add(delivery, `POST loop, 100 in flight: ${CLIENT_LABELS[client]}`, (r) => {
      const perSecond = r.delivery?.loops[client];
      if (perSecond === undefined) return undefined;
      return { value: `${formatRate(perSecond)}${cpu(r.delivery?.cpuUsPerPost?.[client], 'POST')}`, ratio: `${formatRatio(ratio(perSecond, r.delivery?.loops['node-http'] ?? Number.NaN))} node:http` };
    });
  }
  add(delivery, 'best got configuration against node:http', (r) => {
    const best = r.delivery && bestGot(r.delivery.loops);
    if (!best) return undefined;
    const vs = ratio(best.perSecond, r.delivery?.loops['node-http'] ?? Number.NaN);
    return { value: best.client, ratio: formatRatio(vs), met: vs >= TARGETS.gotVsNodeHttp };
  }, `≥ ${TARGETS.gotVsNodeHttp}× to keep got`);

  const pipelined = nodes.find((r) => r.pipeline)?.pipeline;
  const pipeline = `All in one: ${formatCount(pipelined?.events ?? Number.NaN)} events of 1 KB from ${pipelined?.connections ?? '?'} connections, taken and delivered to ${pipelined?.destinations ?? '?'} destinations at once`;
  const pipelineCell = (run: PipelineRun): string => `${formatRate(run.perSecond, ' events/s')} delivered to both${cpu(run.cpuUsPerEvent.process, 'event')}; all taken in ${run.ingestSeconds.toFixed(1)} s, delivered in ${run.seconds.toFixed(1)} s`;
  add(pipeline, 'fanout start, every role in one process (as npm start runs it)', (r) => {
    if (!r.pipeline) return undefined;
    return { value: pipelineCell(r.pipeline.fanout), ratio: `${formatRatio(ratio(r.pipeline.fanout.perSecond, r.pipeline.bare.perSecond))} bare pipeline` };
  }, 'report: was ~0.7×; the guarantees should cost far less');
  add(pipeline, 'bare pipeline: Express + XADD, XREADGROUP + addBulk, a BullMQ Worker per destination + XRANGE + undici', (r) => (r.pipeline ? { value: pipelineCell(r.pipeline.bare) } : undefined));
  add(pipeline, 'CPU per event of every process: fanout against the bare pipeline', (r) => {
    if (!r.pipeline) return undefined;
    const total = ({ cpuUsPerEvent: { process, redis, bench } }: PipelineRun): number => process + redis + bench;
    const line = (run: PipelineRun, name: string): string => `${Math.round(total(run))} µs (${name} ${Math.round(run.cpuUsPerEvent.process)} + Redis ${Math.round(run.cpuUsPerEvent.redis)} + load and sink ${Math.round(run.cpuUsPerEvent.bench)})`;
    return { value: `${line(r.pipeline.fanout, 'fanout')} against ${line(r.pipeline.bare, 'bare')}`, ratio: `${formatRatio(ratio(total(r.pipeline.bare), total(r.pipeline.fanout)))} of the bare pipeline's CPU cost` };
  });

  const latency = 'Latency: ingest → first byte at the sink, open loop, 2 destinations, roles in 3 processes';
  add(latency, 'maximum the rates below are a share of', (r) => (r.maxEventsPerSecond ? { value: formatRate(r.maxEventsPerSecond, ' events/s') } : undefined), 'min(ingest, delivery ÷ 2)');
  const labels = [...new Set(nodes.flatMap((r) => (r.latency ?? []).map((run) => run.label)))];
  for (const label of labels) {
    add(latency, label, (r) => {
      const run = r.latency?.find((l) => l.label === label);
      if (!run) return undefined;
      const atBudget = run.rate === TARGETS.latencyRate;
      const met = atBudget ? run.latency.p50 <= TARGETS.latencyP50Ms && run.latency.p99 <= TARGETS.latencyP99Ms && run.missing === 0 : undefined;
      return {
        value: `p50 ${formatMs(run.latency.p50)}, p99 ${formatMs(run.latency.p99)}, p99.9 ${formatMs(run.latency.p999)}${run.missing ? `, ${run.missing} not delivered in time` : ''}${run.refused ? `, ${run.refused} refused` : ''}; ${formatStages(run.stages)}`,
        ratio: `at ${formatRate(run.sentPerSecond, ' events/s')}`,
        ...(met === undefined ? {} : { met }),
      };
    }, labels[0] === label ? `500/s: p50 ≤ ${TARGETS.latencyP50Ms} ms, p99 ≤ ${TARGETS.latencyP99Ms} ms` : undefined);
  }

  const isolation = 'Isolation: 500 events/s, plus a destination that never answers (timeout 10 s)';
  add(isolation, 'healthy destinations\' p99 without → with the dead one', (r) => {
    if (!r.isolation) return undefined;
    const without = medianRun(r.isolation.without);
    const withDead = medianRun(r.isolation.with);
    const missing = r.isolation.with.reduce((sum, run) => sum + run.missing, 0);
    const vs = ratio(withDead.latency.p99, without.latency.p99);
    const each = (runs: readonly LatencyRun[]): string => runs.map((run) => formatMs(run.latency.p99)).join(', ');
    const runs = r.isolation.with.length > 1 ? `; medians of ${r.isolation.with.length} runs each, alternated: ${each(r.isolation.without)} → ${each(r.isolation.with)}` : '';
    const value = `${formatMs(without.latency.p99)} → ${formatMs(withDead.latency.p99)} (p50 ${formatMs(without.latency.p50)} → ${formatMs(withDead.latency.p50)})${runs}${missing ? `, ${missing} not delivered in time` : ''}`;
    // A pipeline that cannot keep up even without the dead destination measures its backlog, not isolation.
    if (without.latency.p99 > TARGETS.latencyP99Ms * SATURATED_FACTOR) return { value, ratio: `${formatRatio(vs)}, inconclusive: saturated without it` };
    return { value, ratio: formatRatio(vs), met: vs <= TARGETS.isolationP99 && missing === 0 };
  }, `≤ ${TARGETS.isolationP99}×`);

  const memory = 'Memory: Redis used_memory per accepted event';
  const memoryOf = (r: NodeResults, destinations: number): MemoryRun | undefined => r.memory?.runs.find((m) => m.destinations === destinations);
  const counted = nodes.find((r) => r.memory)?.memory;
  const plural = (destinations: number): string => `${destinations} destination${destinations > 1 ? 's' : ''}`;
  for (const destinations of [1, 8]) {
    add(memory, `${plural(destinations)}: in flight, jobs waiting (1 KB events)`, (r) => {
      const run = memoryOf(r, destinations);
      if (!run) return undefined;
      return { value: formatBytes(run.inFlightPerEvent), ratio: `${run.payloadCopies.toFixed(2)} payload copies`, met: run.payloadCopies <= TARGETS.payloadCopies };
    }, 'one payload per event');
  }
  const delivered = `${formatCount(counted?.runs[0]?.delivered.events ?? Number.NaN)} delivered 1 KB events, records kept`;
  for (const destinations of [1, 8]) {
    add(memory, `${plural(destinations)}: after ${delivered}`, (r) => {
      const run = memoryOf(r, destinations);
      if (!run || !r.memory) return undefined;
      const { perEvent, parts, queues } = run.delivered;
      const target = memoryTarget(r.memory.payloadBytes, destinations);
      const perQueue = (n: number): string => formatCount(n / destinations);
      return {
        value: `${formatBytes(perEvent)} per event: stream ${formatBytes(parts.stream)}, records ${formatBytes(parts.records)}, BullMQ's bounded sets ${formatBytes(parts.bullJobs + parts.bullEvents)} (${perQueue(queues.completed)} completed jobs and ${perQueue(queues.events)} events per queue), the rest ${formatBytes(unattributed(run.delivered))}`,
        ratio: `${formatRatio(ratio(perEvent, target))} of ${formatBytes(target)}`,
        met: perEvent <= target,
      };
    }, `≤ ${TARGETS.memoryPayloads} × payload + ${TARGETS.memoryPerDestination} B per destination`);
    add(memory, `${plural(destinations)}: the payload part, and records per destination`, (r) => {
      const run = memoryOf(r, destinations);
      if (!run || !r.memory) return undefined;
      const { payloadPart, recordsPerDestination } = splitMemory(run);
      const payloads = payloadPart / r.memory.payloadBytes;
      return {
        value: `${formatBytes(payloadPart)} beyond the records and BullMQ's sets (the stream and the rest); ${formatBytes(recordsPerDestination)} of records per destination`,
        ratio: `${formatRatio(payloads)} payload, ${formatRatio(recordsPerDestination / TARGETS.memoryPerDestination)} of ${TARGETS.memoryPerDestination} B`,
        met: payloads <= TARGETS.memoryPayloads && recordsPerDestination <= TARGETS.memoryPerDestination,
      };
    }, `≤ ${TARGETS.memoryPayloads}× payload; ≤ ${TARGETS.memoryPerDestination} B`);
  }
  const failing = counted?.failing;
  add(memory, `a destination answering 500 with an ${formatBytes(failing?.errorPageBytes ?? Number.NaN)} page, ${failing?.attempts ?? '?'} attempts: ${formatCount(failing?.events ?? Number.NaN)} events dead-lettered`, (r) => {
    if (!r.memory) return undefined;
    const { failing } = r.memory;
    const { perEvent, parts, events, attempts, attemptsSeen } = failing;
    const seen = attemptsSeen === events * attempts ? '' : `; ${formatCount(attemptsSeen)} attempts seen, ${formatCount(events * attempts)} expected`;
    return {
      value: `${formatBytes(perEvent)} per event: stream ${formatBytes(parts.stream)}, record ${formatBytes(parts.records)}, attempt log ${formatBytes(parts.attemptLogs)}, dead-letter copy ${formatBytes(parts.deadLetterCopies)}, BullMQ's failed job ${formatBytes(parts.bullJobs)}, its events stream ${formatBytes(parts.bullEvents)}, the rest ${formatBytes(unattributed(failing))}${seen}`,
      ratio: `${(perEvent / r.memory.payloadBytes).toFixed(2)} payloads`,
    };
  }, 'report: bounded, one excerpt per delivery (was ~107 KB)');
  add(memory, 'RSS at 500 events/s', (r) => (r.rss ? { value: r.rss.map(({ process, bytes }) => `${process.replace(/^fanout /, '')} ${formatBytes(bytes)}`).join(', ') } : undefined));

  const destinations = 'Destination types: deliveries/s, fanout workers on a preloaded queue against the client library alone, 1 KB events';
  const DESTINATION_LABELS = {
    's3-batch': ['s3, batches of 500 (NDJSON, maxWait 1s), s3rver', 'raw PutObject of the same NDJSON, same S3Client, 2 in flight'],
    's3-object': ['s3, one object per event, s3rver, concurrency 100', 'raw PutObject per event, same S3Client, 100 in flight'],
    amqp: ['amqp, RabbitMQ, confirm channel, concurrency 100', 'raw amqplib confirm-channel publish, 100 in flight'],
    nats: ['nats, JetStream publish with msgID, concurrency 100', 'raw JetStream publish with msgID, 100 in flight'],
  } as const;
  for (const kind of Object.keys(DESTINATION_LABELS) as (keyof typeof DESTINATION_LABELS)[]) {
    const [fanoutLabel, rawLabel] = DESTINATION_LABELS[kind];
    const target = TARGETS.destinationsVsRaw[kind];
    add(destinations, fanoutLabel, (r) => {
      const run = r.destinations?.runs.find((one) => one.kind === kind);
      if (!run) return undefined;
      const vs = ratio(run.fanout, run.raw);
      return { value: `${formatRate(run.fanout)}${cpu(run.cpuUs.fanout, 'delivery')}`, ratio: `${formatRatio(vs)} raw`, met: vs >= target };
    }, `≥ ${target}× raw`);
    add(destinations, rawLabel, (r) => {
      const run = r.destinations?.runs.find((one) => one.kind === kind);
      return run ? { value: `${formatRate(run.raw, ' events/s')}${cpu(run.cpuUs.raw, 'event')}` } : undefined;
    });
  }
  add(destinations, 'BullMQ Worker, no-op processor, concurrency 100: the ceiling of one job per delivery', (r) => (r.destinations ? { value: formatRate(r.destinations.noopWorker, ' jobs/s') } : undefined));

  const ordering = 'Ordering: deliveries/s to the sink, the worker alone on preloaded lines; latency through the whole pipeline';
  add(ordering, 'fifo: one delivery at a time', (r) => {
    const fifo = r.ordering?.fifo;
    if (!fifo) return undefined;
    const bound = 1000 / (fifo.postRoundTripMs + fifo.redisRoundTripMs);
    return { value: `${formatRate(fifo.perSecond)} (${formatMs(1000 / fifo.perSecond)} per delivery)${cpu(fifo.cpuUsPerDelivery, 'delivery')}`, ratio: `${formatRatio(ratio(fifo.perSecond, bound))} of 1 ÷ (POST + Redis round trip)` };
  }, 'report against the round trip');
  add(ordering, 'fifo: Redis per delivery', (r) => {
    const costs = r.ordering?.fifo.redisPerDelivery;
    if (!costs) return undefined;
    // commandstats counts the commands scripts run too: the scripts and the plain commands a worker sends are its round trips.
    const calls = (command: string): number => costs.find((cost) => cost.command === command)?.calls ?? 0;
    const all = costs.reduce((total, cost) => total + cost.calls, 0);
    return { value: `${(calls('evalsha') + calls('eval')).toFixed(1)} scripts, ${calls('hgetall').toFixed(1)} HGETALL (BullMQ's getJob, and inside its scripts); ${all.toFixed(0)} commands in all, the scripts' included` };
  });
  add(ordering, '1 ÷ (POST round trip + one Redis round trip), measured in the same run', (r) => {
    const fifo = r.ordering?.fifo;
    return fifo ? { value: `${formatRate(1000 / (fifo.postRoundTripMs + fifo.redisRoundTripMs))}: POST ${formatMicros(fifo.postRoundTripMs)} (undici, one at a time) + PING ${formatMicros(fifo.redisRoundTripMs)}` } : undefined;
  });
  const keyedLabel = (r: NodeResults | undefined): string => `${r?.ordering?.keyed.keys ?? '?'} keys, concurrency ${r?.ordering?.keyed.concurrency ?? '?'}`;
  add(ordering, `ordering { key }: ${keyedLabel(nodes.find((r) => r.ordering))}`, (r) => {
    const keyed = r.ordering?.keyed;
    if (!keyed) return undefined;
    const rate = (runs: readonly PreloadedRun[]): number => median(runs.map((run) => run.perSecond));
    const vs = ratio(rate(keyed.keyed), rate(keyed.none));
    const each = (runs: readonly PreloadedRun[]): string => runs.map((run) => formatCount(run.perSecond)).join(', ');
    return {
      value: `${formatRate(rate(keyed.keyed))}${cpu(median(keyed.keyed.map((run) => run.cpuUsPerDelivery)), 'delivery')}; medians of ${keyed.keyed.length} runs each, alternated: ${each(keyed.none)} → ${each(keyed.keyed)}`,
      ratio: `${formatRatio(vs)} none`,
      met: vs >= TARGETS.keyedVsNone,
    };
  }, `≥ ${TARGETS.keyedVsNone}× none`);
  add(ordering, `ordering none, the same concurrency`, (r) => {
    const none = r.ordering?.keyed.none;
    return none ? { value: `${formatRate(median(none.map((run) => run.perSecond)))}${cpu(median(none.map((run) => run.cpuUsPerDelivery)), 'delivery')}` } : undefined;
  });
  add(ordering, 'the other keys\' p99 at a twin without → with a slow key (1 s per request)', (r) => {
    const slow = r.ordering?.slowKey;
    if (!slow) return undefined;
    const without = medianRun(slow.without);
    const withSlow = medianRun(slow.with);
    const missing = [...slow.without, ...slow.with].reduce((sum, run) => sum + run.missing, 0);
    const each = (runs: readonly KeyedLatency[]): string => runs.map((run) => formatMs(run.latency.p99)).join(', ');
    const vs = ratio(withSlow.latency.p99, without.latency.p99);
    return {
      value: `${formatMs(without.latency.p99)} → ${formatMs(withSlow.latency.p99)} (p50 ${formatMs(without.latency.p50)} → ${formatMs(withSlow.latency.p50)}) at ${formatRate(slow.rate, ' events/s')}, 100 keys, concurrency 50, twin destinations side by side; medians of ${slow.with.length} runs: ${each(slow.without)} → ${each(slow.with)}${missing ? `, ${missing} not delivered in time` : ''}`,
      ratio: formatRatio(vs),
      met: vs <= TARGETS.slowKeyP99 && missing === 0,
    };
  }, `≤ ${TARGETS.slowKeyP99}×`);

  return { nodes: nodes.map((r) => r.node.label), rows };
}

// ---- rendering -------------------------------------------------------------------------

function cellText(cell: Cell | undefined): [string, string] {
  if (!cell) return ['', ''];
  const verdict = cell.met === undefined ? '' : cell.met ? ' ✓' : ' ✗';
  return [cell.value, `${cell.ratio ?? ''}${verdict}`.trim()];
}

function headings(table: Table): string[] {
  return ['', ...table.nodes.flatMap((node) => [node, 'ratio']), 'target'];
}

function rowTexts(table: Table): { section: string; cells: string[] }[] {
  return table.rows.map((row) => ({ section: row.section, cells: [row.label, ...row.cells.flatMap(cellText), row.target ?? ''] }));
}

/** A fixed-width table for the terminal, one block per section. */
export function renderText(table: Table): string {
  const head = headings(table);
  const rows = rowTexts(table);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row.cells[i]!.length)));
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '─'.repeat(w)).join('  ')];
  let section = '';
  for (const row of rows) {
    if (row.section !== section) {
      section = row.section;
      out.push('', section);
    }
    out.push(line(row.cells));
  }
  return out.join('\n');
}

const escapeCell = (text: string): string => text.replace(/\|/g, '\\|');

/** The same table in Markdown, sections as bold rows. */
export function renderMarkdown(table: Table): string {
  const head = headings(table);
  const out = [`| ${head.map(escapeCell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  let section = '';
  for (const row of rowTexts(table)) {
    if (row.section !== section) {
      section = row.section;
      out.push(`| **${escapeCell(section)}** |${' |'.repeat(head.length - 1)}`);
    }
    out.push(`| ${row.cells.map(escapeCell).join(' | ')} |`);
  }
  return out.join('\n');
}

/** The run's context for the doc: machine, Nodes, command, timings. Paths under `repoRoot` are shown relative to it. */
export function describeRun(run: BenchRun, repoRoot = ''): string {
  const { machine } = run;
  const shown = (path: string): string => (repoRoot && path.startsWith(`${repoRoot}/`) ? path.slice(repoRoot.length + 1) : path);
  const shared = (machine.loadAverage[0] ?? 0) > 1.5 ? ': the machine was shared, other work was running during this run' : '';
  return [
    `- Command: \`${run.command}\`${run.quick ? ' (quick: figures are indicative only)' : ''}`,
    `- When: ${run.startedAt}, ${Math.round(run.seconds)} s in all; every measured run ${run.durationMs / 1000} s after ${run.warmupMs / 1000} s of warm-up`,
    `- Machine: ${machine.cores} × ${machine.cpus}, ${machine.memory}, ${machine.os}; load average at the start ${machine.loadAverage.map((n) => n.toFixed(2)).join(' / ')}${shared}`,
    `- Service and baselines under: ${run.nodes.map((r) => `${r.node.label} (\`${shown(r.node.path)}\`)`).join(', ')}; load generator and sink under Node ${run.benchNode.replace(/^v/, '')}`,
    `- Redis: ${run.redis}, private, AOF everysec, noeviction`,
  ].join('\n');
}
