/**
 * How much Redis a deployment needs, projected from what the memory run measured: the events
 * each retention window holds times the bytes an event was measured to leave there.
 */
import { deliveryFlowSchema, resolveFlow } from '@fanout/flows';
import { COMPLETED_JOBS_KEPT } from '@fanout/queues';
import { formatBytes, formatCount } from './report.js';
import type { MemoryResults } from './scenarios/memory.js';

/** A deployment to size, and the defaults that decide how long it keeps what. */
export interface SizingDeployment {
  readonly eventsPerSecond: number;
  readonly payloadBytes: number;
  readonly destinations: number;
  /** How long payloads stay in the stream after their deliveries settled: FANOUT_STREAM_RETENTION (ms). */
  readonly streamRetentionMs: number;
  /** How long event records stay: FANOUT_EVENT_RETENTION (ms). */
  readonly eventRetentionMs: number;
  /** Completed jobs BullMQ keeps per queue. */
  readonly completedJobsPerQueue: number;
  /** How long a dead letter is kept: a destination's deadLetter.retention (ms). */
  readonly deadLetterRetentionMs: number;
  /** The Redis it should fit in (bytes). */
  readonly redisBytes: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const GIB = 1024 ** 3;

/** A destination with nothing set: the DeliveryFlow schema's defaults. */
const defaultDestination = resolveFlow(
  deliveryFlowSchema.parse({ apiVersion: 'fanout.dev/v1', kind: 'DeliveryFlow', metadata: { name: 'sizing' }, spec: { destinations: [{ name: 'd', type: 'http', url: 'http://127.0.0.1/' }] } }),
).destinations[0]!;

/**
 * Issue 8's deployment: 100 events/s of 1 KB to 4 destinations, at the defaults: the
 * retentions of apps/fanout/src/config.ts (FANOUT_STREAM_RETENTION 1h, FANOUT_EVENT_RETENTION
 * 2d: written here again, the app exports no config), the completed jobs the delivery job's
 * options keep and the DeliveryFlow schema's deadLetter.retention (both read from their
 * packages); it should fit in 16 GiB.
 */
export const DEFAULT_DEPLOYMENT: SizingDeployment = {
  eventsPerSecond: 100,
  payloadBytes: 1024,
  destinations: 4,
  streamRetentionMs: HOUR_MS,
  eventRetentionMs: 2 * DAY_MS,
  completedJobsPerQueue: COMPLETED_JOBS_KEPT.count,
  deadLetterRetentionMs: defaultDestination.deadLetter.retentionMs,
  redisBytes: 16 * GIB,
};

/** What the memory run measured, per thing a retention window holds. */
export interface SizingFigures {
  /** The events' size. */
  readonly payloadBytes: number;
  /** Stream bytes per event: the payload and its entry. */
  readonly streamPerEvent: number;
  /** Event record bytes per event: `perEvent + perDestination × destinations`, fitted over the runs. */
  readonly records: { readonly perEvent: number; readonly perDestination: number };
  /** BullMQ per queue: bytes per completed job kept, per entry of its events stream, and that stream's cap. */
  readonly bull: { readonly perCompletedJob: number; readonly perEventsEntry: number; readonly eventsMaxLen: number };
  /** What one dead-lettered delivery keeps for its retention: its event record, attempt log, dead-letter copy and failed job. */
  readonly deadLetter: number;
}

/** The least-squares line through the points (two points: the line through them). */
export function fitLine(points: readonly { readonly x: number; readonly y: number }[]): { intercept: number; slope: number } {
  const n = points.length;
  const meanX = points.reduce((sum, p) => sum + p.x, 0) / n;
  const meanY = points.reduce((sum, p) => sum + p.y, 0) / n;
  const sxx = points.reduce((sum, p) => sum + (p.x - meanX) ** 2, 0);
  const slope = sxx > 0 ? points.reduce((sum, p) => sum + (p.x - meanX) * (p.y - meanY), 0) / sxx : Number.NaN;
  return { intercept: meanY - slope * meanX, slope };
}

export function sizingFigures(memory: MemoryResults): SizingFigures {
  const settled = memory.runs.map((run) => run.delivered);
  const total = (pick: (run: (typeof settled)[number]) => number): number => settled.reduce((sum, run) => sum + pick(run), 0);
  const records = fitLine(memory.runs.map((run) => ({ x: run.destinations, y: run.delivered.parts.records })));
  const { parts } = memory.failing;
  return {
    payloadBytes: memory.payloadBytes,
    streamPerEvent: total((run) => run.parts.stream) / settled.length,
    records: { perEvent: records.intercept, perDestination: records.slope },
    bull: {
      perCompletedJob: total((run) => run.parts.bullJobs * run.events) / total((run) => run.queues.completed),
      perEventsEntry: total((run) => run.parts.bullEvents * run.events) / total((run) => run.queues.events),
      eventsMaxLen: settled[0]?.queues.eventsMaxLen ?? Number.NaN,
    },
    deadLetter: parts.records + parts.attemptLogs + parts.deadLetterCopies + parts.bullJobs,
  };
}

/** One part of the projection, with its arithmetic written out. */
export interface SizingTerm {
  readonly what: string;
  readonly arithmetic: string;
  readonly bytes: number;
}

export interface Sizing {
  readonly deployment: SizingDeployment;
  readonly figures: SizingFigures;
  /** Payloads, records, BullMQ: what the deployment holds at any time. */
  readonly terms: readonly SizingTerm[];
  readonly totalBytes: number;
  readonly fits: boolean;
  /** What each hour of a destination failing every event adds, kept for the dead letters' retention. */
  readonly failingHour: SizingTerm;
}

/** `1h`, `2d`, `90s`: the largest unit that divides the duration. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', DAY_MS], ['h', HOUR_MS], ['m', 60_000], ['s', 1_000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** GiB with two decimals from 0.1 GiB up, MiB with one from 1 MiB up, the bench's usual units below. */
export function formatSize(bytes: number): string {
  const gib = bytes / GIB;
  if (Math.abs(gib) >= 0.1) return `${Number.isInteger(gib) ? gib : gib.toFixed(2)} GiB`;
  if (Math.abs(bytes) >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return formatBytes(bytes);
}

const b = (bytes: number): string => `${formatCount(bytes)} B`;

export function projectSizing(figures: SizingFigures, deployment: SizingDeployment = DEFAULT_DEPLOYMENT): Sizing {
  if (figures.payloadBytes !== deployment.payloadBytes) throw new Error(`sizing: measured with ${figures.payloadBytes} B events, asked about ${deployment.payloadBytes} B ones`);
  const { eventsPerSecond: rate, destinations } = deployment;
  const within = (ms: number): { events: number; text: string } => {
    const events = (rate * ms) / 1000;
    return { events, text: `${formatCount(rate)}/s × ${formatCount(ms / 1000)} s = ${formatCount(events)} events` };
  };

  const payloads = within(deployment.streamRetentionMs);
  const records = within(deployment.eventRetentionMs);
  const recordBytes = figures.records.perEvent + destinations * figures.records.perDestination;
  const { perCompletedJob, perEventsEntry, eventsMaxLen } = figures.bull;
  const perQueue = deployment.completedJobsPerQueue * perCompletedJob + eventsMaxLen * perEventsEntry;
  const terms: SizingTerm[] = [
    { what: `payloads, FANOUT_STREAM_RETENTION ${formatDuration(deployment.streamRetentionMs)}`, arithmetic: `${payloads.text} × ${b(figures.streamPerEvent)}`, bytes: payloads.events * figures.streamPerEvent },
    {
      what: `records, FANOUT_EVENT_RETENTION ${formatDuration(deployment.eventRetentionMs)}`,
      arithmetic: `${records.text} × (${b(figures.records.perEvent)} + ${destinations} × ${b(figures.records.perDestination)} = ${b(recordBytes)})`,
      bytes: records.events * recordBytes,
    },
    {
      what: `BullMQ, ${formatCount(deployment.completedJobsPerQueue)} completed jobs and an events stream of ${formatCount(eventsMaxLen)} per queue`,
      arithmetic: `${destinations} queues × (${formatCount(deployment.completedJobsPerQueue)} × ${b(perCompletedJob)} + ${formatCount(eventsMaxLen)} × ${b(perEventsEntry)})`,
      bytes: destinations * perQueue,
    },
  ];
  const totalBytes = terms.reduce((sum, term) => sum + term.bytes, 0);
  const failing = within(HOUR_MS);
  return {
    deployment,
    figures,
    terms,
    totalBytes,
    fits: totalBytes <= deployment.redisBytes,
    failingHour: {
      what: `each hour a destination fails every event, kept deadLetter.retention ${formatDuration(deployment.deadLetterRetentionMs)}`,
      arithmetic: `${failing.text.replace(/events$/, 'dead letters')} × ${b(figures.deadLetter)}`,
      bytes: failing.events * figures.deadLetter,
    },
  };
}

/** The projection as a heading and one line per term, each with its arithmetic. */
export function formatSizing(sizing: Sizing, node: string): { title: string; lines: string[] } {
  const { deployment } = sizing;
  const line = ({ what, arithmetic, bytes }: SizingTerm): string => `${what}: ${arithmetic} = ${formatSize(bytes)}`;
  return {
    title: `Sizing from this run's memory figures (${node}): ${formatCount(deployment.eventsPerSecond)} events/s of ${formatBytes(deployment.payloadBytes)} to ${deployment.destinations} destinations, Redis used_memory at the defaults`,
    lines: [
      ...sizing.terms.map(line),
      `total ${formatSize(sizing.totalBytes)}: ${sizing.fits ? 'fits' : 'does not fit'} in ${formatSize(deployment.redisBytes)} ${sizing.fits ? '✓' : '✗'}`,
      `and ${line(sizing.failingHour)}`,
    ],
  };
}
