import { describe, expect, it } from '@jest/globals';
import { parseFlowDocuments, type Flow } from '@fanout/flows';
import { amqpDestination, httpDestination, natsDestination, s3Destination, testFlow } from '@fanout/testkit';
import { destinationTarget, maskFlow } from './mask-flow.js';

describe('maskFlow', () => {
  const flow = testFlow('payments', [
    httpDestination({
      name: 'orders',
      url: 'https://u:p@orders.example.com/',
      headers: { authorization: 'a', 'Proxy-Authorization': 'b', 'X-API-KEY': 'c', 'x-access-token': 'd', 'X-Webhook-Signature': 'e', cookie: 'f', 'X-Secret': 'g', 'X-Team': 'orders', Accept: 'application/json' },
      signing: { type: 'standard-webhooks', secrets: ['whsec_bmV3', 'whsec_b2xk'] },
    }),
  ]);

  it('masks credential headers and fields by name, case-insensitively, and keeps the rest', () => {
    expect(maskFlow(flow).destinations[0]).toEqual({
      ...flow.destinations[0],
      url: 'https://u:***@orders.example.com/',
      headers: { authorization: '***', 'Proxy-Authorization': '***', 'X-API-KEY': '***', 'x-access-token': '***', 'X-Webhook-Signature': '***', cookie: '***', 'X-Secret': '***', 'X-Team': 'orders', Accept: 'application/json' },
      signing: { type: 'standard-webhooks', secrets: ['***', '***'] },
    });
  });

  it('masks secret fields the Flow type may grow, at any depth', () => {
    const withCredentials = { ...flow, destinations: [{ ...flow.destinations[0], credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'abc' } }] } as unknown as Flow;
    expect(maskFlow(withCredentials)).toMatchObject({ destinations: [{ credentials: { accessKeyId: '***', secretAccessKey: '***' } }] });
  });

  it('shows every value that came from ${env:…} as written, whatever its name, and never the value', () => {
    const env = { HOOK_PATH: 'T000/B000/XXXXSLACK', FN_CODE: 'azfnc0de==', SAS_SIG: 'sv=2024&sig=abc%2F', DEST_TOKEN: 'dest-t0ken', VERIFY: 'whsec_dmVyaWZ5' };
    const [loaded] = parseFlowDocuments(
      [
        'apiVersion: fanout.dev/v1',
        'kind: DeliveryFlow',
        'metadata: { name: payments }',
        'spec:',
        '  source: { verify: { type: standard-webhooks, secret: "${env:VERIFY}" } }',
        '  destinations:',
        '    - { name: slack, type: http, url: "https://hooks.slack.com/services/${env:HOOK_PATH}", headers: { X-Auth: "${env:DEST_TOKEN}" } }',
        '    - { name: azure, type: http, url: "https://fn.example.net/api/hook?code=${env:FN_CODE}&${env:SAS_SIG}" }',
        '',
      ].join('\n'),
      'flows/payments.yaml',
      env,
    );
    const masked = maskFlow(loaded!);
    const shown = JSON.stringify(masked);
    for (const value of Object.values(env)) expect(shown).not.toContain(value);
    expect(masked.destinations[0]).toMatchObject({ url: 'https://hooks.slack.com/services/${env:HOOK_PATH}', headers: { 'X-Auth': '${env:DEST_TOKEN}' } });
    expect(masked.destinations[1]).toMatchObject({ url: 'https://fn.example.net/api/hook?code=${env:FN_CODE}&${env:SAS_SIG}' });
    expect(masked.source.verify).toEqual({ type: 'standard-webhooks', secrets: ['***'], toleranceMs: 300_000 });
    expect(masked).not.toHaveProperty('envTemplates');
    expect(destinationTarget(loaded!.destinations[0]!, loaded!.envTemplates)).toEqual({ type: 'http', url: 'https://hooks.slack.com/services/${env:HOOK_PATH}' });
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
    expect(masked.destinations.map((destination) => destinationTarget(destination, undefined))).toEqual([
      { type: 's3', url: 'http://minio:9000/events/' },
      { type: 'amqp', url: 'amqp://fanout:***@rabbit:5672' },
      { type: 'nats', url: 'nats://***@nats:4222' },
    ]);
    expect(destinationTarget(s3Destination({ name: 'archive', bucket: 'events', prefix: 'payments/' }), undefined)).toEqual({ type: 's3', url: 's3://events/payments/' });
  });

  it('does not change the loaded flow', () => {
    const before = JSON.stringify(flow);
    maskFlow(flow);
    expect(JSON.stringify(flow)).toBe(before);
  });
});
