import { describe, expect, it } from '@jest/globals';
import type { Flow } from '@fanout/flows';
import { amqpDestination, httpDestination, natsDestination, s3Destination, testFlow } from '@fanout/testkit';
import { destinationTarget, maskFlow, maskUrl } from './mask-flow.js';

describe('maskUrl', () => {
  it.each([
    ['https://user:pa55@example.com/hook', 'https://user:***@example.com/hook'],
    ['https://example.com/hook?token=abc&team=a', 'https://example.com/hook?token=***&team=a'],
    ['https://example.com/hook?API_KEY=1&api_key=2', 'https://example.com/hook?API_KEY=***&api_key=***'],
    ['amqp://fanout:s3cr3t@rabbit:5672/vh', 'amqp://fanout:***@rabbit:5672/vh'],
    ['nats://user:pa55@nats:4222', 'nats://user:***@nats:4222'],
    ['nats://s3cr3t-token@nats:4222', 'nats://***@nats:4222'],
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

  it('masks S3 keys and broker passwords, and keeps what says where events go', () => {
    const brokers = testFlow('payments', [
      s3Destination({ name: 'archive', bucket: 'events', endpoint: 'http://minio:9000', credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's3cr3t-key', sessionToken: 's3cr3t-token' } }),
      amqpDestination({ name: 'bus', url: 'amqp://fanout:s3cr3t-amqp@rabbit:5672', exchange: 'events', routingKey: 'orders.created' }),
      natsDestination({ name: 'js', url: 'nats://s3cr3t-nats@nats:4222', subject: 'orders.created' }),
    ]);
    const masked = maskFlow(brokers);
    expect(JSON.stringify(masked)).not.toMatch(/AKIA1|s3cr3t/);
    expect(masked.destinations).toMatchObject([
      { bucket: 'events', endpoint: 'http://minio:9000', credentials: { accessKeyId: '***', secretAccessKey: '***', sessionToken: '***' } },
      { url: 'amqp://fanout:***@rabbit:5672', exchange: 'events', routingKey: 'orders.created' },
      { url: 'nats://***@nats:4222', subject: 'orders.created' },
    ]);
    expect(masked.destinations.map(destinationTarget)).toEqual([
      { type: 's3', url: 'http://minio:9000/events/' },
      { type: 'amqp', url: 'amqp://fanout:***@rabbit:5672' },
      { type: 'nats', url: 'nats://***@nats:4222' },
    ]);
    expect(destinationTarget(s3Destination({ name: 'archive', bucket: 'events', prefix: 'payments/' }))).toEqual({ type: 's3', url: 's3://events/payments/' });
  });

  it('does not change the loaded flow', () => {
    const before = JSON.stringify(flow);
    maskFlow(flow);
    expect(JSON.stringify(flow)).toBe(before);
  });
});
