import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { createBatcher, type BatchLimits, type BatchMember } from './batcher.js';

const LIMITS: BatchLimits = { maxEvents: 3, maxBytes: 100, maxWaitMs: 1_000 };

/** A batcher whose writes are recorded and answer the batch's items joined. */
function recording(limits = LIMITS) {
  const writes: string[][] = [];
  const signals: AbortSignal[] = [];
  let hold: Promise<void> = Promise.resolve();
  const batcher = createBatcher<string, string>(limits, async (members: readonly BatchMember<string>[], signal) => {
    writes.push(members.map(({ item }) => item));
    signals.push(signal);
    await hold;
    return members.map(({ item }) => item).join(',');
  });
  return { batcher, writes, signals, holdWrites: (until: Promise<void>) => void (hold = until) };
}

const live = (): AbortSignal => new AbortController().signal;

describe('createBatcher', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('writes a batch once it holds maxEvents, and every member gets its result', async () => {
    const { batcher, writes } = recording();
    const joined = ['a', 'b', 'c'].map((item) => batcher.join(item, 1, live()));
    expect(await Promise.all(joined)).toEqual(Array(3).fill({ kind: 'written', result: 'a,b,c' }));
    expect(writes).toEqual([['a', 'b', 'c']]);
  });

  it('writes maxWait after the first member, not before', async () => {
    const { batcher, writes } = recording();
    const first = batcher.join('a', 1, live());
    jest.advanceTimersByTime(600);
    const second = batcher.join('b', 1, live());
    jest.advanceTimersByTime(399);
    expect(writes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(await Promise.all([first, second])).toEqual([{ kind: 'written', result: 'a,b' }, { kind: 'written', result: 'a,b' }]);
  });

  it('starts a new batch rather than go past maxBytes, and writes one that reaches it', async () => {
    const { batcher, writes } = recording();
    const a = batcher.join('a', 60, live());
    const b = batcher.join('b', 50, live());
    const c = batcher.join('c', 50, live());
    expect(writes).toEqual([['a'], ['b', 'c']]);
    expect(await Promise.all([a, b, c])).toEqual([{ kind: 'written', result: 'a' }, { kind: 'written', result: 'b,c' }, { kind: 'written', result: 'b,c' }]);
  });

  it('writes a member larger than maxBytes alone', async () => {
    const { batcher, writes } = recording();
    await batcher.join('huge', 500, live());
    expect(writes).toEqual([['huge']]);
  });

  it('collects the next batch while one is being written', async () => {
    const { batcher, writes, holdWrites } = recording();
    let release = (): void => {};
    holdWrites(new Promise<void>((resolve) => (release = resolve)));
    const first = ['a', 'b', 'c'].map((item) => batcher.join(item, 1, live()));
    const next = batcher.join('d', 1, live());
    expect(writes).toEqual([['a', 'b', 'c']]);
    jest.advanceTimersByTime(1_000);
    expect(writes).toEqual([['a', 'b', 'c'], ['d']]);
    release();
    expect((await Promise.all([...first, next])).map((joined) => joined.kind === 'written' && joined.result)).toEqual(['a,b,c', 'a,b,c', 'a,b,c', 'd']);
  });

  it('lets a member leave before the write; the others are written without it', async () => {
    const { batcher, writes } = recording();
    const leaving = new AbortController();
    const a = batcher.join('a', 1, live());
    const b = batcher.join('b', 1, leaving.signal);
    leaving.abort();
    expect(await b).toEqual({ kind: 'left' });
    jest.advanceTimersByTime(1_000);
    expect(await a).toEqual({ kind: 'written', result: 'a' });
    expect(writes).toEqual([['a']]);
  });

  it('aborts a write only once every member gave up on it', async () => {
    const { batcher, signals, holdWrites } = recording({ ...LIMITS, maxEvents: 2 });
    holdWrites(new Promise<void>(() => {}));
    const [one, two] = [new AbortController(), new AbortController()];
    void batcher.join('a', 1, one.signal);
    void batcher.join('b', 1, two.signal);
    one.abort();
    expect(signals[0]!.aborted).toBe(false);
    two.abort();
    expect(signals[0]!.aborted).toBe(true);
  });

  it('draining writes the open batch at once, then each batch in the tick it is joined', async () => {
    const { batcher, writes } = recording();
    const a = batcher.join('a', 1, live());
    batcher.drain();
    expect(await a).toEqual({ kind: 'written', result: 'a' });
    const later = [batcher.join('b', 1, live()), batcher.join('c', 1, live())];
    await Promise.all(later);
    expect(writes).toEqual([['a'], ['b', 'c']]);
  });
});
