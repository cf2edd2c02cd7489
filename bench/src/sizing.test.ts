import { describe, expect, it } from '@jest/globals';
import { COMPLETED_JOBS_KEPT } from '@fanout/queues';
import type { MemoryParts, MemoryResults, SettledRun } from './scenarios/memory.js';
import { DEFAULT_DEPLOYMENT, fitLine, formatDuration, formatSize, formatSizing, projectSizing, sizingFigures } from './sizing.js';

const noParts: MemoryParts = { bullJobs: 0, bullEvents: 0, attemptLogs: 0, deadLetterCopies: 0, records: 0, stream: 0, rest: 0 };
const queues = { wait: 0, active: 0, delayed: 0, completed: 0, failed: 0, events: 0, eventsMaxLen: 10_000 };

function settled(events: number, parts: Partial<MemoryParts>, counts: Partial<typeof queues>): SettledRun {
  return { events, perEvent: 0, parts: { ...noParts, ...parts }, queues: { ...queues, ...counts } };
}

/** Two delivered runs whose records grow 50 B per destination over 250 B per event, and a failing one. */
const memory: MemoryResults = {
  payloadBytes: 1024,
  runs: [
    { destinations: 1, inFlightEvents: 400, inFlightPerEvent: 2_800, payloadCopies: 1.05, delivered: settled(10_000, { stream: 1_190, records: 300, bullJobs: 150, bullEvents: 80 }, { completed: 1_000, events: 10_000 }) },
    { destinations: 8, inFlightEvents: 400, inFlightPerEvent: 12_000, payloadCopies: 1.06, delivered: settled(10_000, { stream: 1_210, records: 650, bullJobs: 1_200, bullEvents: 640 }, { completed: 8_000, events: 80_000 }) },
  ],
  failing: { ...settled(1_000, { stream: 1_200, records: 400, attemptLogs: 900, deadLetterCopies: 1_900, bullJobs: 1_500, bullEvents: 900 }, { failed: 1_000 }), attempts: 3, errorPageBytes: 8_192, attemptsSeen: 3_000 },
};

describe('fitLine', () => {
  it('goes through two points', () => {
    expect(fitLine([{ x: 1, y: 300 }, { x: 8, y: 650 }])).toEqual({ intercept: 250, slope: 50 });
  });

  it('is the least-squares line through more, and has no slope through one x', () => {
    const { intercept, slope } = fitLine([{ x: 0, y: 1 }, { x: 1, y: 2 }, { x: 2, y: 4 }]);
    expect(slope).toBeCloseTo(1.5);
    expect(intercept).toBeCloseTo(5 / 6);
    expect(fitLine([{ x: 1, y: 1 }, { x: 1, y: 3 }]).slope).toBeNaN();
  });
});

describe('sizingFigures', () => {
  it('reads the stream, the records per event and per destination, BullMQ per job and per events entry, and what a dead letter keeps', () => {
    expect(sizingFigures(memory)).toEqual({
      payloadBytes: 1024,
      streamPerEvent: 1_200,
      records: { perEvent: 250, perDestination: 50 },
      // (150 + 1,200) B × 10,000 events over 9,000 completed jobs; (80 + 640) × 10,000 over 90,000 entries.
      bull: { perCompletedJob: 1_500, perEventsEntry: 80, eventsMaxLen: 10_000 },
      deadLetter: 400 + 900 + 1_900 + 1_500,
    });
  });
});

describe('projectSizing', () => {
  const sizing = projectSizing(sizingFigures(memory));

  it('multiplies the events each retention window holds by the bytes measured per event', () => {
    const [payloads, records, bull] = sizing.terms;
    expect(payloads).toEqual({ what: 'payloads, FANOUT_STREAM_RETENTION 1h', arithmetic: '100/s × 3,600 s = 360,000 events × 1,200 B', bytes: 360_000 * 1_200 });
    expect(records).toEqual({ what: 'records, FANOUT_EVENT_RETENTION 2d', arithmetic: '100/s × 172,800 s = 17,280,000 events × (250 B + 4 × 50 B = 450 B)', bytes: 17_280_000 * 450 });
    expect(bull).toEqual({
      what: 'BullMQ, 100 completed jobs and an events stream of 10,000 per queue',
      arithmetic: '4 queues × (100 × 1,500 B + 10,000 × 80 B)',
      bytes: 4 * (100 * 1_500 + 10_000 * 80),
    });
    expect(sizing.totalBytes).toBe(360_000 * 1_200 + 17_280_000 * 450 + 4 * (100 * 1_500 + 10_000 * 80));
    expect(sizing.fits).toBe(true);
  });

  it('says what an hour of dead letters adds, for their retention', () => {
    expect(sizing.failingHour).toEqual({ what: 'each hour a destination fails every event, kept deadLetter.retention 7d', arithmetic: '100/s × 3,600 s = 360,000 dead letters × 4,700 B', bytes: 360_000 * 4_700 });
  });

  it('does not fit when the records alone are larger than the Redis', () => {
    expect(projectSizing(sizingFigures(memory), { ...DEFAULT_DEPLOYMENT, redisBytes: 1024 ** 3 }).fits).toBe(false);
  });

  it('refuses to project events of another size than those measured', () => {
    expect(() => projectSizing(sizingFigures(memory), { ...DEFAULT_DEPLOYMENT, payloadBytes: 4096 })).toThrow('measured with 1024 B events');
  });

  it('reads the deployment from the defaults it names', () => {
    expect(DEFAULT_DEPLOYMENT).toMatchObject({ completedJobsPerQueue: COMPLETED_JOBS_KEPT.count, deadLetterRetentionMs: 7 * 86_400_000 });
  });

  it('prints every term with its arithmetic, the total against the Redis, and the dead letters', () => {
    const { title, lines } = formatSizing(sizing, 'Node 20.20.2');
    expect(title).toContain('(Node 20.20.2): 100 events/s of 1,024 B to 4 destinations');
    expect(lines[0]).toBe('payloads, FANOUT_STREAM_RETENTION 1h: 100/s × 3,600 s = 360,000 events × 1,200 B = 0.40 GiB');
    expect(lines[1]).toBe('records, FANOUT_EVENT_RETENTION 2d: 100/s × 172,800 s = 17,280,000 events × (250 B + 4 × 50 B = 450 B) = 7.24 GiB');
    expect(lines[2]).toBe('BullMQ, 100 completed jobs and an events stream of 10,000 per queue: 4 queues × (100 × 1,500 B + 10,000 × 80 B) = 3.6 MiB');
    expect(lines[3]).toBe('total 7.65 GiB: fits in 16 GiB ✓');
    expect(lines[4]).toBe('and each hour a destination fails every event, kept deadLetter.retention 7d: 100/s × 3,600 s = 360,000 dead letters × 4,700 B = 1.58 GiB');
  });
});

describe('formats', () => {
  it('writes durations in their largest whole unit', () => {
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(172_800_000)).toBe('2d');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1_500)).toBe('1500ms');
  });

  it('writes sizes in GiB, MiB or the bench\'s units', () => {
    expect(formatSize(16 * 1024 ** 3)).toBe('16 GiB');
    expect(formatSize(0.5 * 1024 ** 3)).toBe('0.50 GiB');
    expect(formatSize(9_000_000)).toBe('8.6 MiB');
    expect(formatSize(2_000)).toBe('2,000 B');
  });
});
