import { describe, expect, it } from '@jest/globals';
import type { Flow } from '@fanout/flows';
import { httpDestination, testFlow } from '@fanout/testkit';
import { maskFlow, maskUrl } from './mask-flow.js';

describe('maskUrl', () => {
  it.each([
    ['https://user:pa55@example.com/hook', 'https://user:***@example.com/hook'],
    ['https://example.com/hook?token=abc&team=a', 'https://example.com/hook?token=***&team=a'],
    ['https://example.com/hook?API_KEY=1&api_key=2', 'https://example.com/hook?API_KEY=***&api_key=***'],
  ])('masks %s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it.each([['https://user@example.com'], ['https://example.com'], ['http://example.com:8080/a?b=c'], ['not a url']])('leaves %s exactly as it is', (url) => {
    expect(maskUrl(url)).toBe(url);
  });
});

describe('maskFlow', () => {
  const flow = testFlow('payments', [
    httpDestination({
      name: 'orders',
      url: 'https://u:p@orders.example.com/',
      headers: { authorization: 'a', 'Proxy-Authorization': 'b', 'X-API-KEY': 'c', 'x-access-token': 'd', 'X-Webhook-Signature': 'e', cookie: 'f', 'X-Secret': 'g', 'X-Team': 'orders', Accept: 'application/json' },
    }),
  ]);

  it('masks credential headers by name, case-insensitively, and keeps the rest', () => {
    expect(maskFlow(flow).destinations[0]).toEqual({
      ...flow.destinations[0],
      url: 'https://u:***@orders.example.com/',
      headers: { authorization: '***', 'Proxy-Authorization': '***', 'X-API-KEY': '***', 'x-access-token': '***', 'X-Webhook-Signature': '***', cookie: '***', 'X-Secret': '***', 'X-Team': 'orders', Accept: 'application/json' },
    });
  });

  it('masks secret fields the Flow type may grow, at any depth', () => {
    const withSigning = { ...flow, destinations: [{ ...flow.destinations[0], signing: { type: 'standard-webhooks', secret: 'whsec_x' } }] } as unknown as Flow;
    expect(JSON.stringify(maskFlow(withSigning))).not.toContain('whsec_x');
    expect(maskFlow(withSigning)).toMatchObject({ destinations: [{ signing: { type: 'standard-webhooks', secret: '***' } }] });
  });

  it('does not change the loaded flow', () => {
    const before = JSON.stringify(flow);
    maskFlow(flow);
    expect(JSON.stringify(flow)).toBe(before);
  });
});
