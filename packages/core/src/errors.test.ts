import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES, FanoutError } from './errors.js';

describe('error registry', () => {
  it('is documented in docs/errors.md, code by code, with the same status', () => {
    const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = Object.fromEntries([...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((row) => [row[1], Number(row[2])]));
    const registered = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
    expect(documented).toEqual(registered);
  });

  it('gives every error the JSON body of the contract', () => {
    const error = new FanoutError('FLOW_NOT_FOUND', 'no flow named "x"');
    expect(error.status).toBe(404);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ error: { code: 'FLOW_NOT_FOUND', message: 'no flow named "x"' } });
  });

  it('gives a Retry-After only to the codes where the request can be sent again (with its idempotency key where its fate is unknown)', () => {
    const retryable = Object.keys(ERROR_CODES).filter((code) => new FanoutError(code as keyof typeof ERROR_CODES, '').retryAfterSeconds !== undefined);
    expect(retryable.sort()).toEqual(['INGRESS_BUSY', 'REDIS_MEMORY_FULL', 'REDIS_READONLY', 'REDIS_TIMEOUT', 'REDIS_UNAVAILABLE', 'REPLICATION_TIMEOUT', 'SHUTTING_DOWN']);
  });
});
