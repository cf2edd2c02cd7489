import { describe, expect, it } from '@jest/globals';
import { checkDeliveries, type CheckInput } from '../src/checker.js';
import { mostInFlight } from '../src/order-check.js';
import type { DestinationSpec } from '../src/flow-file.js';
import type { SendOutcome } from '../src/load-generator.js';
import type { ReceivedAttempt } from '../src/recording-receiver.js';

const spec = (name: string, eventTypes?: string[]): DestinationSpec => ({
  name,
  attempts: 3,
  timeoutMs: 1_000,
  retryDelayMs: 10,
  maxRetryDelayMs: 10,
  concurrency: 2,
  ...(eventTypes ? { eventTypes } : {}),
});

const got = (destination: string, webhookId: string, seq: number | undefined, status: number | 'hang' = 200): ReceivedAttempt => ({
  destination,
  webhookId,
  seq,
  receivedAt: 0,
  status,
  answeredAt: 0,
});

function input(outcomes: [number, SendOutcome][], received: ReceivedAttempt[], extra: Partial<CheckInput> = {}): CheckInput {
  return {
    outcomes: new Map(outcomes),
    types: new Map(outcomes.map(([seq]) => [seq, seq === 4 ? 'u' : 't'])),
    destinations: [spec('a'), spec('b', ['t'])],
    attempts: (destination) => received.filter((attempt) => attempt.destination === destination),
    inFlightAtFaults: new Map(),
    ...extra,
  };
}

const acked = (id: string, via = 'old'): SendOutcome => ({ kind: 'acked', id, via });

describe('checkDeliveries', () => {
  it('counts an acked event never delivered as lost, per destination', () => {
    const result = checkDeliveries(input([[1, acked('e1')], [2, acked('e2')]], [got('a', 'e1', 1), got('a', 'e2', 2), got('b', 'e1', 1)]));
    expect(result.destinations.map((d) => [d.destination, d.expected, d.delivered, d.lost])).toEqual([
      ['a', 2, 2, 0],
      ['b', 2, 1, 1],
    ]);
  });

  it('does not expect a filtered event, and counts its delivery as unexpected', () => {
    const result = checkDeliveries(input([[4, acked('e4')]], [got('a', 'e4', 4), got('b', 'e4', 4)]));
    expect(result.destinations.map((d) => [d.expected, d.lost, d.unexpected])).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
  });

  it('counts deliveries of refused, never sent or foreign events as unexpected', () => {
    const result = checkDeliveries(
      input(
        [[1, acked('e1')], [2, { kind: 'refused', reason: 'REDIS_UNAVAILABLE', via: 'old' }]],
        [got('a', 'e1', 1), got('a', 'x2', 2), got('a', 'x9', 9), got('a', 'other', 1), got('a', '', 1), got('a', 'junk', undefined)],
      ),
    );
    expect(result.destinations[0]!.unexpected).toBe(5);
  });

  it('allows an event in doubt to be delivered, once per event', () => {
    const doubt: SendOutcome = { kind: 'indeterminate', reason: 'REDIS_TIMEOUT', via: 'old' };
    const result = checkDeliveries(input([[1, doubt], [2, doubt]], [got('a', 'd1', 1), got('a', 'd1b', 1)]));
    expect(result.destinations[0]).toMatchObject({ indeterminateDelivered: 1, unexpected: 1, lost: 0, expected: 0 });
  });

  it('counts duplicates by webhook-id, only 2xx answers as deliveries', () => {
    const result = checkDeliveries(input([[1, acked('e1')]], [got('a', 'e1', 1, 500), got('a', 'e1', 1, 'hang'), got('a', 'e1', 1), got('a', 'e1', 1), got('a', 'e1', 1)]));
    expect(result.destinations[0]).toMatchObject({ duplicated: 1, extraDeliveries: 2, maxDeliveries: 3, requests: 5, unexplainedDuplicates: 1 });
  });

  it('explains a repeat by a fault window, a recorded failure, or a cut-off attempt within the budget', () => {
    const outcomes: [number, SendOutcome][] = [[1, acked('e1')], [2, acked('e2')], [3, acked('e3')], [5, acked('e5')]];
    const received = ['e1', 'e1', 'e2', 'e2', 'e3', 'e3', 'e5', 'e5'].map((id) => got('a', id, Number(id.slice(1))));
    const result = checkDeliveries(
      input(outcomes, received, {
        inFlightAtFaults: new Map([['a', new Map([['e1', 1]])]]),
        // e2: the worker recorded a timeout although the destination said 200; e3 and e5: one attempt each never recorded.
        recordedAttempts: new Map([['a', new Map([['e1', { total: 2, failed: 0 }], ['e2', { total: 2, failed: 1 }], ['e3', { total: 1, failed: 0 }], ['e5', { total: 1, failed: 0 }]])]]),
        repeatBudget: new Map([['a', 1]]),
      }),
    );
    // e1, e2 and e3 are explained; e5 is beyond the budget of one cut-off attempt.
    expect(result.destinations[0]).toMatchObject({ duplicated: 4, unexplainedDuplicates: 1, unrecordedAttempts: 2 });
  });

  it('expects an event where the per-seq predicate says: the flow version that accepted it', () => {
    // e1 came through an old ingress (no destination c), e2 through a new one (c added).
    const meantFor = (destination: DestinationSpec, seq: number): boolean => destination.name !== 'c' || seq === 2;
    const outcomes: [number, SendOutcome][] = [[1, acked('e1', 'old')], [2, acked('e2', 'new')]];
    const result = checkDeliveries(input(outcomes, [got('c', 'e1', 1)], { destinations: [spec('a'), spec('c')], meantFor }));
    expect(result.destinations.map((d) => [d.destination, d.expected, d.lost, d.unexpected])).toEqual([
      ['a', 2, 2, 0],
      ['c', 1, 1, 1],
    ]);
    expect(result.examples).toContain('c: unexpected e1 seq=1: not meant for this destination (its filter, or the flow version that accepted it)');
  });

  it('leaves poison events out of what must be delivered', () => {
    const result = checkDeliveries(input([[1, acked('e1')]], [got('a', 'e1', 1, 500)], { poison: new Map([['a', new Set([1])]]) }));
    expect(result.destinations[0]).toMatchObject({ expected: 0, lost: 0 });
  });

  describe('order check', () => {
    /** An attempt of seq's event (id `e<seq>`) from `from` to `to` ms, answered `status`. */
    const attempt = (destination: string, seq: number, from: number, to: number | undefined, status: number | 'hang' = 200): ReceivedAttempt => ({
      destination,
      webhookId: `e${seq}`,
      seq,
      receivedAt: from,
      status,
      answeredAt: to,
    });
    /** Events 1..n acked, ingested in `order` (seqs, first to last): stream ids 1000-0, 1000-1, … */
    function ordered(order: number[], received: ReceivedAttempt[], ordering: 'fifo' | 'key', keys: [number, string][] = []): CheckInput {
      return input(
        order.map((seq) => [seq, acked(`e${seq}`)]),
        received,
        {
          destinations: [{ ...spec('o'), ordering }],
          types: new Map(order.map((seq) => [seq, 't'])),
          streamIds: new Map(order.map((seq, i) => [`e${seq}`, `1000-${i}`])),
          keys: new Map(keys),
        },
      );
    }

    it('finds an attempt of B that started before A was delivered; a repeat of A after B is allowed', () => {
      const inOrder = checkDeliveries(ordered([1, 2], [attempt('o', 1, 0, 10), attempt('o', 2, 11, 20), attempt('o', 1, 21, 30)], 'fifo'));
      expect(inOrder.destinations[0]!.outOfOrder).toBe(0);
      const early = checkDeliveries(ordered([1, 2], [attempt('o', 1, 0, 10), attempt('o', 2, 5, 20)], 'fifo'));
      expect(early.destinations[0]!.outOfOrder).toBe(1);
      expect(early.examples).toContain('o: out of order on key "": seq=2 (e2, 1000-1) attempted at +0.005s, before seq=1 (e1, 1000-0) settled at +0.010s');
    });

    it('takes the ingest order from the stream ids, not the sequence numbers', () => {
      // 2 was ingested before 1: 2 first is right, 1 while 2 is in flight is not.
      expect(checkDeliveries(ordered([2, 1], [attempt('o', 2, 0, 10), attempt('o', 1, 12, 20)], 'fifo')).destinations[0]!.outOfOrder).toBe(0);
      expect(checkDeliveries(ordered([2, 1], [attempt('o', 1, 0, 10), attempt('o', 2, 12, 20)], 'fifo')).destinations[0]!.outOfOrder).toBe(1);
    });

    it('lets a dead-lettered A go only after its last attempt, and holds B behind an A never attempted', () => {
      const dead = [attempt('o', 1, 0, 10, 500), attempt('o', 1, 20, 30, 500)];
      expect(checkDeliveries(ordered([1, 2], [...dead, attempt('o', 2, 31, 40)], 'fifo')).destinations[0]!.outOfOrder).toBe(0);
      // Between A's two failed attempts: A was retrying, not settled.
      expect(checkDeliveries(ordered([1, 2], [...dead, attempt('o', 2, 15, 18)], 'fifo')).destinations[0]!.outOfOrder).toBe(1);
      const skipped = checkDeliveries(ordered([1, 2], [attempt('o', 2, 0, 10)], 'fifo'));
      expect(skipped.destinations[0]).toMatchObject({ lost: 1, outOfOrder: 1 });
    });

    it('checks each key on its own: other keys interleave freely', () => {
      const keys: [number, string][] = [[1, 'a'], [2, 'b'], [3, 'a'], [4, 'b']];
      const types = new Map([1, 2, 3, 4].map((seq) => [seq, 't']));
      // b's events overlap a's; 3 (key a) starts while 1 (key a) is in flight.
      const received = [attempt('o', 1, 0, 50), attempt('o', 2, 1, 10), attempt('o', 4, 11, 20), attempt('o', 3, 30, 60)];
      const result = checkDeliveries({ ...ordered([1, 2, 3, 4], received, 'key', keys), types });
      expect(result.destinations[0]!.outOfOrder).toBe(1);
      expect(result.examples[0]).toMatch(/key "a": seq=3/);
      // The same attempts at a fifo destination: 2 and 4 went before 1 settled as well.
      expect(checkDeliveries({ ...ordered([1, 2, 3, 4], received, 'fifo'), types }).destinations[0]!.outOfOrder).toBe(3);
    });

    it('counts the most attempts in flight at once; back to back is one at a time', () => {
      expect(mostInFlight([attempt('o', 1, 0, 10), attempt('o', 2, 10, 20), attempt('o', 3, 20, 30)])).toBe(1);
      expect(mostInFlight([attempt('o', 1, 0, 10), attempt('o', 2, 5, 20), attempt('o', 3, 8, 9), attempt('o', 4, 30, 40)])).toBe(3);
    });

    it('checks nothing at a destination without ordering', () => {
      const result = checkDeliveries(input([[1, acked('e1')], [2, acked('e2')]], [attempt('a', 2, 0, 5), attempt('a', 1, 1, 10)], { streamIds: new Map([['e1', '1-0'], ['e2', '1-1']]) }));
      expect(result.destinations[0]!.outOfOrder).toBe(0);
    });
  });
});
