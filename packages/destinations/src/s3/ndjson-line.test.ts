import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ndjsonLine, type LineEvent } from './ndjson-line.js';

const AT = Date.parse('2026-03-04T05:06:07.089Z');
const event = (body: string | Buffer, contentType = 'application/json'): LineEvent => ({ eventId: 'evt-1', flow: 'payments', receivedAt: AT, contentType, body: Buffer.isBuffer(body) ? body : Buffer.from(body) });

describe('ndjsonLine', () => {
  it('holds a JSON body as its value, the fields in the contract order', () => {
    expect(ndjsonLine(event('{"type":"payment.succeeded","amount":12}'))).toBe(
      '{"id":"evt-1","flow":"payments","receivedAt":"2026-03-04T05:06:07.089Z","contentType":"application/json","body":{"type":"payment.succeeded","amount":12}}',
    );
  });

  it('keeps a JSON body as sent: large numbers, key order, escapes', () => {
    const body = '{"z":1,"a":123456789012345678901234567890,"s":"\\u00e9\\n"}';
    const line = ndjsonLine(event(body));
    expect(line).toContain(`"body":${body}}`);
  });

  it('turns the line breaks of pretty-printed JSON into spaces, and the value is the same', () => {
    const body = '{\r\n  "type": "t",\n  "list": [1,\n 2]\n}\n';
    const line = ndjsonLine(event(body));
    expect(line).not.toMatch(/[\r\n]/);
    expect((JSON.parse(line) as { body: unknown }).body).toEqual(JSON.parse(body));
  });

  it.each([
    ['text that is not JSON', Buffer.from('hello=world'), 'application/x-www-form-urlencoded'],
    ['an empty body', Buffer.alloc(0), ''],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'application/octet-stream'],
    ['JSON behind a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{}')]), 'application/json'],
  ])('holds %s as bodyBase64', (_, body, contentType) => {
    const parsed = JSON.parse(ndjsonLine(event(body, contentType))) as Record<string, unknown>;
    expect(parsed).toEqual({ id: 'evt-1', flow: 'payments', receivedAt: '2026-03-04T05:06:07.089Z', contentType, bodyBase64: body.toString('base64') });
  });

  it('is one line of JSON whatever the body, giving back its bytes or its value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), fc.json().map((text) => Buffer.from(text)), fc.string().map((text) => Buffer.from(text))), (body) => {
        const line = ndjsonLine(event(body));
        if (/[\r\n]/.test(line)) return false;
        const parsed = JSON.parse(line) as { body?: unknown; bodyBase64?: string };
        if (parsed.bodyBase64 !== undefined) return Buffer.from(parsed.bodyBase64, 'base64').equals(body);
        return JSON.stringify(parsed.body) === JSON.stringify(JSON.parse(body.toString('utf8')));
      }),
    );
  });
});
