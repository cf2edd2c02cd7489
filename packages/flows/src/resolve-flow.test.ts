import { describe, expect, it } from '@jest/globals';
import type { Flow, HttpDestination } from './flow.js';
import { resolveFlow } from './resolve-flow.js';
import { deliveryFlowSchema } from './schema.js';

const ORDERS = { name: 'orders', type: 'http', url: 'https://orders.example.com/hook' } as const;

function resolve(spec: Record<string, unknown>): Flow {
  return resolveFlow(deliveryFlowSchema.parse({ apiVersion: 'fanout.dev/v1', kind: 'DeliveryFlow', metadata: { name: 'payments' }, spec }));
}

function destination(spec: Record<string, unknown>, index = 0): HttpDestination {
  const found = resolve(spec).destinations[index];
  if (found?.type !== 'http') throw new Error(`no http destination ${index}`);
  return found;
}

describe('resolveFlow: its version', () => {
  it('is the same for the same flow, and changes with what dispatching it depends on, not with where it delivers', () => {
    const base = resolve({ destinations: [ORDERS] }).version;
    expect(resolve({ destinations: [ORDERS] }).version).toBe(base);
    expect(resolve({ destinations: [{ ...ORDERS, url: 'https://elsewhere.example.com/', headers: { 'X-Team': 'b' }, timeout: '3s' }] }).version).toBe(base);
    expect(resolve({ destinations: [ORDERS, { ...ORDERS, name: 'ledger' }] }).version).not.toBe(base);
    expect(resolve({ destinations: [{ ...ORDERS, filter: { eventTypes: ['a'] } }] }).version).not.toBe(base);
    expect(resolve({ destinations: [{ ...ORDERS, retry: { attempts: 3 } }] }).version).not.toBe(base);
    expect(resolve({ destinations: [{ ...ORDERS, ordering: 'fifo' }] }).version).not.toBe(base);
  });
});

describe('resolveFlow: ordering', () => {
  it('is none by default; fifo delivers one at a time whatever spec.defaults.concurrency says', () => {
    expect(destination({ destinations: [ORDERS] })).toMatchObject({ ordering: 'none', concurrency: 10 });
    expect(destination({ defaults: { concurrency: 8 }, destinations: [{ ...ORDERS, ordering: 'fifo' }] })).toMatchObject({ ordering: 'fifo', concurrency: 1 });
    expect(destination({ destinations: [{ ...ORDERS, ordering: 'fifo', concurrency: 1 }] })).toMatchObject({ ordering: 'fifo', concurrency: 1 });
  });

  it('reads a key ordering as property names, its concurrency the keys in flight at once', () => {
    expect(destination({ destinations: [{ ...ORDERS, ordering: { key: '$.customer.id' }, concurrency: 50 }] })).toMatchObject({ ordering: { key: ['customer', 'id'] }, concurrency: 50 });
  });

  it.each([
    [{ ...ORDERS, ordering: 'random' }, 'expected none, fifo or { key: $.path }'],
    [{ ...ORDERS, ordering: { key: '$.items[0]' } }, 'expected a simple dotted JSON path'],
    [{ ...ORDERS, ordering: { key: '$.a', by: 'b' } }, 'Unrecognized key'],
    [{ ...ORDERS, ordering: 'fifo', concurrency: 5 }, 'concurrency 5 with ordering fifo: fifo delivers one event at a time'],
  ])('refuses %p: %s', (ordered, message) => {
    expect(() => resolve({ destinations: [ordered] })).toThrow(message);
  });
});

describe('resolveFlow: defaults', () => {
  it('gives a bare destination the documented defaults', () => {
    expect(resolve({ destinations: [ORDERS] })).toEqual({
      name: 'payments',
      version: expect.stringMatching(/^[0-9a-f]{12}$/),
      source: { maxBodyBytes: 1_048_576, idempotencyKey: { headers: ['webhook-id', 'x-github-delivery'], ttlMs: 86_400_000 } },
      destinations: [
        {
          ...ORDERS,
          headers: {},
          timeoutMs: 10_000,
          retry: { attempts: 8, backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 3_600_000, jitter: 'full' } },
          concurrency: 10,
          ordering: 'none',
          deadLetter: { retentionMs: 604_800_000 },
          onGone: 'dead-letter',
        },
      ],
    });
  });

  it('applies spec.defaults to every destination', () => {
    const flow = resolve({
      defaults: { timeout: '3s', retry: { attempts: 4, backoff: { type: 'fixed', delay: '250ms' } }, concurrency: 2, rateLimit: { max: 5, per: '1m' }, deadLetter: { retention: '1d' } },
      destinations: [ORDERS, { ...ORDERS, name: 'billing' }],
    });
    for (const resolved of flow.destinations) {
      expect(resolved).toMatchObject({
        timeoutMs: 3_000,
        retry: { attempts: 4, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 3_600_000, jitter: 'full' } },
        concurrency: 2,
        rateLimit: { max: 5, perMs: 60_000 },
        deadLetter: { retentionMs: 86_400_000 },
      });
    }
  });

  it('merges a destination retry field by field over spec.defaults.retry', () => {
    const spec = {
      defaults: { retry: { attempts: 3, backoff: { type: 'fixed', delay: '5s', maxDelay: '30m', jitter: 'none' } } },
      destinations: [{ ...ORDERS, retry: { attempts: 10, backoff: { type: 'exponential', delay: '2s' } } }, { ...ORDERS, name: 'billing', retry: { backoff: { jitter: 'full' } } }],
    };
    expect(destination(spec, 0).retry).toEqual({ attempts: 10, backoff: { type: 'exponential', delayMs: 2_000, maxDelayMs: 1_800_000, jitter: 'none' } });
    expect(destination(spec, 1).retry).toEqual({ attempts: 3, backoff: { type: 'fixed', delayMs: 5_000, maxDelayMs: 1_800_000, jitter: 'full' } });
  });

  it('lets a destination override every other policy field', () => {
    const resolved = destination({
      defaults: { timeout: '3s', concurrency: 2, rateLimit: { max: 5, per: '1m' }, deadLetter: { retention: '1d' } },
      destinations: [{ ...ORDERS, timeout: '5s', concurrency: 20, rateLimit: { max: 100, per: '1s' }, deadLetter: { retention: '14d' }, ordering: 'none' }],
    });
    expect(resolved).toMatchObject({ timeoutMs: 5_000, concurrency: 20, rateLimit: { max: 100, perMs: 1_000 }, deadLetter: { retentionMs: 1_209_600_000 }, ordering: 'none' });
  });

  it('leaves rateLimit and filter out when neither is set', () => {
    const resolved = destination({ destinations: [ORDERS] });
    expect('rateLimit' in resolved).toBe(false);
    expect('filter' in resolved).toBe(false);
  });

  it('reads the event type from $.type unless told otherwise', () => {
    const spec = { destinations: [{ ...ORDERS, filter: { eventTypes: ['payment.succeeded'] } }, { ...ORDERS, name: 'billing', filter: { eventTypes: ['a', 'b'], jsonPath: '$.data.kind' } }] };
    expect(destination(spec, 0).filter).toEqual({ eventTypes: ['payment.succeeded'], path: ['type'] });
    expect(destination(spec, 1).filter).toEqual({ eventTypes: ['a', 'b'], path: ['data', 'kind'] });
  });
});

describe('resolveFlow: circuitBreaker and onGone', () => {
  it('takes spec.defaults.circuitBreaker whole, a destination replaces it whole or turns it off with false', () => {
    const flow = resolve({
      defaults: { circuitBreaker: { consecutiveFailures: 10 }, onGone: 'pause' },
      destinations: [ORDERS, { ...ORDERS, name: 'billing', circuitBreaker: { failureRate: { threshold: '50%' }, cooldown: '5s', redrive: true } }, { ...ORDERS, name: 'audit', circuitBreaker: false, onGone: 'dead-letter' }],
    });
    const [orders, billing, audit] = flow.destinations;
    expect(orders).toMatchObject({ circuitBreaker: { trip: { kind: 'consecutiveFailures', count: 10 }, cooldownMs: 30_000, redrive: false }, onGone: 'pause' });
    expect(billing).toMatchObject({ circuitBreaker: { trip: { kind: 'failureRate', thresholdPercent: 50, minAttempts: 20, windowMs: 60_000 }, cooldownMs: 5_000, redrive: true } });
    expect(audit).not.toHaveProperty('circuitBreaker');
    expect(audit).toMatchObject({ onGone: 'dead-letter' });
  });

  it.each([
    [{ ...ORDERS, circuitBreaker: { cooldown: '5s' } }, 'give exactly one of consecutiveFailures or failureRate'],
    [{ ...ORDERS, circuitBreaker: { consecutiveFailures: 3, failureRate: { threshold: '50%' } } }, 'give exactly one of consecutiveFailures or failureRate'],
    [{ ...ORDERS, circuitBreaker: { failureRate: { threshold: '150%' } } }, 'expected a percentage such as 50%'],
    [{ ...ORDERS, circuitBreaker: { consecutiveFailures: 0 } }, 'expected a whole number ≥ 1'],
    [{ ...ORDERS, onGone: 'ignore' }, 'expected dead-letter or pause'],
  ])('refuses %p: %s', (written, message) => {
    expect(() => resolve({ destinations: [written] })).toThrow(message);
  });
});

describe('resolveFlow: units', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    [2_500, 2_500],
  ])('reads the duration %p as %p ms', (timeout, ms) => {
    expect(destination({ destinations: [{ ...ORDERS, timeout }] }).timeoutMs).toBe(ms);
  });

  it.each([
    ['512kb', 524_288],
    ['1mb', 1_048_576],
    ['2.5mb', 2_621_440],
    [2_048, 2_048],
  ])('reads the size %p as %p bytes', (maxBodyBytes, bytes) => {
    expect(resolve({ source: { maxBodyBytes }, destinations: [ORDERS] }).source.maxBodyBytes).toBe(bytes);
  });
});

describe('resolveFlow: source.idempotencyKey', () => {
  it("takes the senders' own ids when not set, and none when set to false", () => {
    expect(resolve({ destinations: [ORDERS] }).source.idempotencyKey).toEqual({ headers: ['webhook-id', 'x-github-delivery'], ttlMs: 86_400_000 });
    expect('idempotencyKey' in resolve({ source: { idempotencyKey: false }, destinations: [ORDERS] }).source).toBe(false);
  });

  it('reads a header key, remembered for 24h by default', () => {
    expect(resolve({ source: { idempotencyKey: { header: 'Idempotency-Key' } }, destinations: [ORDERS] }).source.idempotencyKey).toEqual({ headers: ['Idempotency-Key'], ttlMs: 86_400_000 });
  });

  it('reads a JSON path key as property names, with its ttl', () => {
    expect(resolve({ source: { idempotencyKey: { jsonPath: '$.data.id', ttl: '10m' } }, destinations: [ORDERS] }).source.idempotencyKey).toEqual({ path: ['data', 'id'], ttlMs: 600_000 });
  });

  it.each([
    [{ ttl: '1h' }, 'give exactly one of header or jsonPath'],
    [{ header: 'Idempotency Key' }, 'expected an HTTP header name'],
    [{ jsonPath: '$.items[0].id' }, 'expected a simple dotted JSON path such as $.type or $.data.kind'],
    [{ header: 'Idempotency-Key', ttl: '0s' }, 'expected a duration longer than 0'],
  ])('refuses %p: %s', (idempotencyKey, message) => {
    expect(() => resolve({ source: { idempotencyKey }, destinations: [ORDERS] })).toThrow(message);
  });
});
