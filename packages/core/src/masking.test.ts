import { describe, expect, it } from '@jest/globals';
import { isCredentialName, maskUrl } from './masking.js';

describe('maskUrl', () => {
  it.each([
    ['https://user:pa55@example.com/hook', 'https://user:***@example.com/hook'],
    ['https://example.com/hook?token=abc&team=a', 'https://example.com/hook?token=***&team=a'],
    ['https://example.com/hook?API_KEY=1&api_key=2', 'https://example.com/hook?API_KEY=***&api_key=***'],
    ['redis://:redispass@127.0.0.1:6379/0', 'redis://:***@127.0.0.1:6379/0'],
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

describe('isCredentialName', () => {
  it.each(['Authorization', 'proxy-authorization', 'X-API-KEY', 'x-access-token', 'cookie', 'secret', 'secrets', 'secretAccessKey', 'password', 'X-Webhook-Signature', 'credentials'])('%s is', (name) => {
    expect(isCredentialName(name)).toBe(true);
  });

  it.each(['url', 'X-Team', 'Accept', 'header', 'type', 'name', 'routingKey'])('%s is not', (name) => {
    expect(isCredentialName(name)).toBe(false);
  });
});
