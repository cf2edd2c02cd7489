import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHttpKind, type DeliveryAttempt, type DestinationKind } from '@fanout/destinations';
import type { HttpDestination } from '@fanout/flows';
import { deliveryAttempt, httpDestination, startReceiver, type ScriptedReceiver } from '@fanout/testkit';
import { Webhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';

const NEW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OLD_SECRET = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const OTHER_SECRET = 'whsec_dW5yZWxhdGVkIHNlY3JldCBrZXkgYnl0ZXM=';

/** The headers a receiver's library is handed: Node's, values as strings. */
const asStrings = (headers: IncomingHttpHeaders): Record<string, string> => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));

describe('outbound Standard Webhooks signing', () => {
  let receiver: ScriptedReceiver;
  let kind: DestinationKind<HttpDestination>;
  beforeAll(async () => {
    receiver = await startReceiver();
    kind = createHttpKind();
  });
  afterAll(async () => {
    await kind.close();
    await receiver.close();
  });

  const attempt = (overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt => deliveryAttempt({ body: Buffer.from('{"type":"payment.succeeded","amount":"12.50 €"}'), ...overrides });
  const signedTo = (path: string, secrets: readonly string[]): HttpDestination => httpDestination({ name: 'orders', url: `${receiver.url}${path}`, signing: { type: 'standard-webhooks', secrets } });

  async function deliverAndReceive(path: string, secrets: readonly string[], sent = attempt()): Promise<{ headers: Record<string, string>; body: Buffer; sent: DeliveryAttempt }> {
    const before = receiver.requestsTo(path).length;
    expect(await kind.client(signedTo(path, secrets)).deliver(sent)).toMatchObject({ outcome: { kind: 'delivered' } });
    const request = receiver.requestsTo(path)[before]!;
    return { headers: asStrings(request.headers), body: request.body, sent };
  }

  it('signs so that the standardwebhooks and svix libraries verify it', async () => {
    const { headers, body, sent } = await deliverAndReceive('/signed', [NEW_SECRET]);
    expect(headers['webhook-id']).toBe(sent.eventId);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(new Webhook(NEW_SECRET).verify(body.toString(), headers)).toEqual({ type: 'payment.succeeded', amount: '12.50 €' });
    expect(new SvixWebhook(NEW_SECRET).verify(body.toString(), headers)).toEqual({ type: 'payment.succeeded', amount: '12.50 €' });
    expect(() => new Webhook(OTHER_SECRET).verify(body.toString(), headers)).toThrow('No matching signature found');
  });

  it('while rotating, sends one signature per secret, newest first, and a receiver with either secret verifies', async () => {
    const { headers, body } = await deliverAndReceive('/rotating', [NEW_SECRET, OLD_SECRET]);
    const [newest, oldest, ...rest] = headers['webhook-signature']!.split(' ');
    expect(rest).toEqual([]);
    expect(`v1,${newest!.slice(3)}`).toBe(new Webhook(NEW_SECRET).sign(headers['webhook-id']!, new Date(Number(headers['webhook-timestamp']) * 1_000), body.toString()));
    expect(`v1,${oldest!.slice(3)}`).toBe(new Webhook(OLD_SECRET).sign(headers['webhook-id']!, new Date(Number(headers['webhook-timestamp']) * 1_000), body.toString()));
    for (const secret of [NEW_SECRET, OLD_SECRET]) {
      expect(new Webhook(secret).verify(body.toString(), headers)).toBeTruthy();
      expect(new SvixWebhook(secret).verify(body.toString(), headers)).toBeTruthy();
    }
    expect(() => new SvixWebhook(OTHER_SECRET).verify(body.toString(), headers)).toThrow();
  });

  it('re-signs every attempt with that attempt\'s webhook-timestamp, keeping the webhook-id', async () => {
    const first = attempt({ startedAt: Date.now() - 61_000 });
    const second = { ...first, attempt: 2, startedAt: Date.now() };
    const one = await deliverAndReceive('/resigned', [NEW_SECRET], first);
    const two = await deliverAndReceive('/resigned', [NEW_SECRET], second);
    expect(two.headers['webhook-id']).toBe(one.headers['webhook-id']);
    expect(Number(two.headers['webhook-timestamp']) - Number(one.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(60);
    expect(two.headers['webhook-signature']).not.toBe(one.headers['webhook-signature']);
    for (const { headers, body } of [one, two]) expect(new Webhook(NEW_SECRET).verify(body.toString(), headers)).toBeTruthy();
  });

  it('takes a raw secret as its UTF-8 bytes, as the libraries\' raw format does', async () => {
    const raw = 'a raw shared secret, not whsec_';
    const { headers, body } = await deliverAndReceive('/raw', [raw]);
    expect(new Webhook(Buffer.from(raw, 'utf8'), { format: 'raw' }).verify(body.toString(), headers)).toBeTruthy();
    expect(() => new Webhook(NEW_SECRET).verify(body.toString(), headers)).toThrow();
  });

  it('signs a body that is not UTF-8 over its bytes, as the specification says', async () => {
    const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x0a]);
    const { headers, body } = await deliverAndReceive('/binary', [NEW_SECRET], attempt({ body: binary, contentType: 'application/octet-stream' }));
    expect(body.equals(binary)).toBe(true);
    const key = Buffer.from(NEW_SECRET.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key).update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.`).update(binary).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('sends no webhook-signature without signing', async () => {
    await kind.client(httpDestination({ name: 'orders', url: `${receiver.url}/unsigned` })).deliver(attempt());
    expect(receiver.requestsTo('/unsigned')[0]?.headers['webhook-signature']).toBeUndefined();
  });
});
