import { afterEach, describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import type { EventTypeFilter, Ordering } from '@fanout/flows';
import { eventTypeAt, matchDestinations } from './match-destinations.js';

type Dest = { name: string; filter?: EventTypeFilter; ordering: Ordering };
const dest = (name: string, filter?: EventTypeFilter, ordering: Ordering = 'none'): Dest => (filter ? { name, filter, ordering } : { name, ordering });
const typeFilter = (...eventTypes: string[]): EventTypeFilter => ({ eventTypes, path: ['type'] });
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const names = (list: readonly { name: string }[]): string[] => list.map(({ name }) => name);

describe('matchDestinations', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('sends the event to destinations whose filter lists its type, and to those without a filter', () => {
    const destinations = [dest('orders', typeFilter('payment.succeeded')), dest('refunds', typeFilter('payment.refunded')), dest('archive')];
    const match = matchDestinations(destinations, json({ type: 'payment.succeeded' }));
    expect(names(match.matched)).toEqual(['orders', 'archive']);
    expect(names(match.filtered)).toEqual(['refunds']);
  });

  it('reads the ordering key of the destinations ordered by one: a string or a whole number, else ""', () => {
    const byCustomer = dest('ledger', undefined, { key: ['customer', 'id'] });
    const match = (body: unknown) => matchDestinations([byCustomer, dest('orders', undefined, 'fifo'), dest('archive')], Buffer.isBuffer(body) ? body : json(body)).orderKeys;
    expect([...match({ customer: { id: 'c-1' } })]).toEqual([[byCustomer, 'c-1']]);
    expect(match({ customer: { id: 42 } }).get(byCustomer)).toBe('42');
    for (const body of [{ customer: { id: 4.5 } }, { customer: {} }, { customer: { id: { a: 1 } } }, [1], Buffer.from('not json')]) expect(match(body).get(byCustomer)).toBe('');
  });

  it('reads no ordering key for a destination its filter turned the event away from', () => {
    const keyed = dest('ledger', typeFilter('a'), { key: ['id'] });
    const match = matchDestinations([keyed], json({ type: 'b', id: 'x' }));
    expect(match.filtered).toEqual([keyed]);
    expect(match.orderKeys.size).toBe(0);
  });

  it('reads the type at a custom path', () => {
    const destinations = [dest('nested', { eventTypes: ['a.created'], path: ['data', 'kind'] }), dest('top', typeFilter('a.created'))];
    const match = matchDestinations(destinations, json({ type: 'other', data: { kind: 'a.created' } }));
    expect(names(match.matched)).toEqual(['nested']);
    expect(names(match.filtered)).toEqual(['top']);
  });

  it.each([
    ['a body that is not JSON', Buffer.from('type=payment.succeeded')],
    ['a body without a type', json({ id: 1 })],
    ['a type that is not a string', json({ type: ['payment.succeeded'] })],
    ['a JSON string body', json('payment.succeeded')],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00])],
  ])('matches only destinations without a filter for %s', (_, body) => {
    const match = matchDestinations([dest('orders', typeFilter('payment.succeeded')), dest('archive')], body);
    expect(names(match.matched)).toEqual(['archive']);
    expect(names(match.filtered)).toEqual(['orders']);
  });

  it('parses the body once however many destinations filter', () => {
    const parse = jest.spyOn(JSON, 'parse');
    matchDestinations([dest('a', typeFilter('x')), dest('b', typeFilter('y')), dest('c', { eventTypes: ['z'], path: ['data', 'type'] })], json({ type: 'x' }));
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('does not parse the body when no destination filters', () => {
    const parse = jest.spyOn(JSON, 'parse');
    const match = matchDestinations([dest('a'), dest('b')], Buffer.from('not json'));
    expect(parse).not.toHaveBeenCalled();
    expect(names(match.matched)).toEqual(['a', 'b']);
  });

  it('puts every destination in exactly one list, in flow order', () => {
    const arbitraryDestination = fc.record({
      name: fc.string(),
      filter: fc.option(fc.record({ eventTypes: fc.array(fc.constantFrom('a', 'b', 'c')), path: fc.constant(['type']) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(arbitraryDestination), fc.constantFrom('a', 'b', 'd'), (destinations, type) => {
        const cleaned = destinations.map(({ name, filter }) => dest(name, filter));
        const { matched, filtered } = matchDestinations(cleaned, json({ type }));
        expect([...matched, ...filtered].sort((x, y) => cleaned.indexOf(x) - cleaned.indexOf(y))).toEqual(cleaned);
        expect(matched.filter((d) => filtered.includes(d))).toEqual([]);
        for (const d of matched) expect(!d.filter || d.filter.eventTypes.includes(type)).toBe(true);
        for (const d of filtered) expect(d.filter?.eventTypes.includes(type)).toBe(false);
      }),
    );
  });
});

describe('eventTypeAt', () => {
  it('walks property names, array indexes included', () => {
    expect(eventTypeAt({ data: [{ type: 'x' }] }, ['data', '0', 'type'])).toBe('x');
  });

  it('does not reach into prototypes', () => {
    expect(eventTypeAt({}, ['constructor', 'name'])).toBeUndefined();
    expect(eventTypeAt('abc', ['length'])).toBeUndefined();
  });

  it('reads the document itself with an empty path', () => {
    expect(eventTypeAt('x', [])).toBe('x');
    expect(eventTypeAt(null, ['type'])).toBeUndefined();
  });
});
