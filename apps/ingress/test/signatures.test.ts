import { createHmac } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sign as githubSign } from '@octokit/webhooks-methods';
import type { Flow, SourcePolicy } from '@fanout/flows';
import { createRedisFixture, httpDestination, testFlow, type RedisFixture } from '@fanout/testkit';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { post, startIngress, type Reply, type TestIngress } from './ingress-server.js';

const SW_NEW = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_OLD = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const SW_OTHER = 'whsec_dW5yZWxhdGVkIHNlY3JldCBrZXkgYnl0ZXM=';
const GITHUB_SECRET = "It's a Secret to Everybody";
const STRIPE_NEW = 'whsec_stripe_new_0123456789';
const STRIPE_OLD = 'whsec_stripe_old_9876543210';
const HMAC_SECRET = 'shpss_hmac_secret';
const SECRETS = [SW_NEW, SW_OLD, GITHUB_SECRET, STRIPE_NEW, STRIPE_OLD, HMAC_SECRET];

const stripe = new Stripe('sk_test_fanout');
const flow = (name: string, source: Omit<SourcePolicy, 'maxBodyBytes'>): Flow => {
  const base = testFlow(name, [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hooks' })], 4_096);
  return { ...base, source: { ...base.source, ...source } };
};

const flows = [
  flow('sw', { verify: { type: 'standard-webhooks', secrets: [SW_NEW, SW_OLD], toleranceMs: 300_000 } }),
  flow('sw-keyed', { verify: { type: 'standard-webhooks', secrets: [SW_NEW], toleranceMs: 300_000 }, idempotencyKey: { headers: ['Idempotency-Key'], ttlMs: 86_400_000 } }),
  flow('gh', { verify: { type: 'github', secrets: [GITHUB_SECRET] } }),
  flow('st', { verify: { type: 'stripe', secrets: [STRIPE_NEW, STRIPE_OLD], toleranceMs: 300_000 } }),
  flow('hm', { verify: { type: 'hmac-sha256', secrets: [HMAC_SECRET], header: 'X-Shopify-Hmac-Sha256', encoding: 'base64', prefix: '' } }),
  flow('hm-hex', { verify: { type: 'hmac-sha256', secrets: [HMAC_SECRET], header: 'X-Signature', encoding: 'hex', prefix: 'sha256=' } }),
];

interface ErrorBody {
  error: { code: string; message: string };
}

const BODY = '{"type":"payment.succeeded","id":"evt_1","note":"café"}';
const nowSeconds = (): number => Math.floor(Date.now() / 1_000);

function standardWebhooksHeaders(secret: string, body: string, { id = `msg_${Math.random().toString(36).slice(2)}`, seconds = nowSeconds() } = {}): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': new Webhook(secret).sign(id, new Date(seconds * 1_000), body) };
}

describe('inbound signature verification', () => {
  let fx: RedisFixture;
  let ingress: TestIngress;
  beforeAll(async () => {
    fx = await createRedisFixture();
    ingress = await startIngress({ redis: fx.redis, keys: fx.keys, flows });
  });
  afterAll(async () => {
    await ingress.close();
    await fx.cleanup();
  });
  let storedBefore: number;
  beforeEach(async () => {
    storedBefore = await stored();
  });

  const stored = (): Promise<number> => fx.redis.xlen(fx.keys.partitions[0]!.stream);
  const send = (flowName: string, headers: Record<string, string>, body: string | Buffer = BODY): Promise<Reply> =>
    post(ingress.port, `/webhooks/${flowName}`, { headers: { 'content-type': 'application/json', ...headers }, chunks: [Buffer.from(body)] });

  async function expectAccepted(reply: Reply): Promise<void> {
    expect({ status: reply.status, body: reply.json<unknown>() }).toEqual({ status: 202, body: { id: expect.any(String) } });
    expect(await stored()).toBe(storedBefore + 1);
  }

  async function expectRefused(reply: Reply, message: string): Promise<void> {
    expect({ status: reply.status, body: reply.json<ErrorBody>() }).toEqual({ status: 401, body: { error: { code: 'SIGNATURE_INVALID', message } } });
    for (const secret of SECRETS) expect(reply.body.toString()).not.toContain(secret.slice(6));
    expect(await stored()).toBe(storedBefore);
  }

  describe('standard-webhooks', () => {
    it('accepts what the standardwebhooks library signs, with either secret of a rotation', async () => {
      await expectAccepted(await send('sw', standardWebhooksHeaders(SW_NEW, BODY)));
      storedBefore += 1;
      await expectAccepted(await send('sw', standardWebhooksHeaders(SW_OLD, BODY)));
    });

    it('accepts a header with the signatures of several secrets and versions, one of them ours', async () => {
      const headers = standardWebhooksHeaders(SW_OTHER, BODY);
      const ours = standardWebhooksHeaders(SW_OLD, BODY, { id: headers['webhook-id']!, seconds: Number(headers['webhook-timestamp']) });
      await expectAccepted(await send('sw', { ...headers, 'webhook-signature': `v1a,AAAA ${headers['webhook-signature']} ${ours['webhook-signature']}` }));
    });

    it('refuses a signature by another secret, and stores nothing', async () => {
      await expectRefused(await send('sw', standardWebhooksHeaders(SW_OTHER, BODY)), 'no signature in webhook-signature matched');
    });

    it('refuses a body changed after signing, even by whitespace', async () => {
      await expectRefused(await send('sw', standardWebhooksHeaders(SW_NEW, BODY), BODY.replace(',', ', ')), 'no signature in webhook-signature matched');
    });

    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('names a missing %s header', async (header) => {
      const headers = standardWebhooksHeaders(SW_NEW, BODY);
      delete headers[header];
      await expectRefused(await send('sw', headers), `the ${header} header is missing`);
    });

    it('refuses timestamps outside the tolerance, either way, saying by how much', async () => {
      await expectRefused(await send('sw', standardWebhooksHeaders(SW_NEW, BODY, { seconds: nowSeconds() - 400 })), expect.stringMatching(/^webhook-timestamp is (400|401) s old, beyond the 300 s tolerance$/) as unknown as string);
      await expectRefused(await send('sw', standardWebhooksHeaders(SW_NEW, BODY, { seconds: nowSeconds() + 400 })), expect.stringMatching(/^webhook-timestamp is (399|400) s in the future, beyond the 300 s tolerance$/) as unknown as string);
    });

    it('refuses a signature header that holds no v1 signature', async () => {
      await expectRefused(await send('sw', { ...standardWebhooksHeaders(SW_NEW, BODY), 'webhook-signature': 'v2,abc v1a,def' }), 'webhook-signature holds no v1,<base64> signature');
    });

    it('answers a webhook-id seen again as an idempotent repeat (the replay defence), for twice the tolerance', async () => {
      const headers = standardWebhooksHeaders(SW_NEW, BODY);
      const first = await send('sw', headers);
      await expectAccepted(first);
      const replay = await send('sw', standardWebhooksHeaders(SW_OLD, BODY, { id: headers['webhook-id']! }));
      expect({ status: replay.status, replayed: replay.headers['idempotent-replayed'], body: replay.json<unknown>() }).toEqual({ status: 200, replayed: 'true', body: first.json<unknown>() });
      expect(await stored()).toBe(storedBefore + 1);
      const ttl = await fx.redis.pttl(fx.keys.partitions[0]!.idempotency('sw', headers['webhook-id']!));
      expect(ttl).toBeGreaterThan(590_000);
      expect(ttl).toBeLessThanOrEqual(600_000);
    });

    it('keeps both the replay defence and the flow\'s own idempotency key', async () => {
      const headers = standardWebhooksHeaders(SW_NEW, BODY);
      const first = await send('sw-keyed', { ...headers, 'idempotency-key': 'order-1' });
      await expectAccepted(first);
      // The same message with the unsigned key changed, as a replayer might: still a repeat.
      expect((await send('sw-keyed', { ...headers, 'idempotency-key': 'order-2' })).status).toBe(200);
      // Another message with the same key: a repeat by the flow's own rule.
      expect((await send('sw-keyed', { ...standardWebhooksHeaders(SW_NEW, BODY), 'idempotency-key': 'order-1' })).status).toBe(200);
      expect(await stored()).toBe(storedBefore + 1);
    });

    it('checks the body as sent, before its Content-Encoding is decoded, and says so when it does not match', async () => {
      const compressed = gzipSync(Buffer.from(BODY));
      // The compressed bytes are no UTF-8 string, which standardwebhooks signs; signed per the specification instead.
      const id = 'msg_gzip';
      const seconds = nowSeconds();
      const signature = createHmac('sha256', Buffer.from(SW_NEW.slice('whsec_'.length), 'base64')).update(`${id}.${seconds}.`).update(compressed).digest('base64');
      await expectAccepted(await send('sw', { 'content-encoding': 'gzip', 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': `v1,${signature}` }, compressed));
      storedBefore += 1;
      await expectRefused(
        await send('sw', { 'content-encoding': 'gzip', ...standardWebhooksHeaders(SW_NEW, BODY) }, compressed),
        'no signature in webhook-signature matched (signatures are checked over the body as sent, before its gzip Content-Encoding is decoded)',
      );
    });

    it('refuses an unsigned gzip bomb with 401 before decoding a byte of it', async () => {
      // 3 MiB of zeros in under 4 KiB: 750 times the flow's limit once decoded.
      const bomb = gzipSync(Buffer.alloc(3 * 1_048_576));
      expect(bomb.length).toBeLessThan(4_096);
      const reply = await send('sw', { 'content-encoding': 'gzip' }, bomb);
      expect(reply.status).toBe(401);
      expect(reply.json<ErrorBody>().error.message).toMatch(/^the webhook-id header is missing/);
    });
  });

  describe('github', () => {
    it('accepts what @octokit/webhooks-methods signs', async () => {
      await expectAccepted(await send('gh', { 'x-hub-signature-256': await githubSign(GITHUB_SECRET, BODY) }));
    });

    it('refuses another secret, another algorithm and no header, saying which', async () => {
      await expectRefused(await send('gh', { 'x-hub-signature-256': await githubSign('another secret', BODY) }), 'the signature in X-Hub-Signature-256 did not match');
      await expectRefused(await send('gh', { 'x-hub-signature-256': 'sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12' }), 'X-Hub-Signature-256 is not sha256=<hex HMAC-SHA256>');
      await expectRefused(await send('gh', {}), 'the X-Hub-Signature-256 header is missing');
    });
  });

  describe('stripe', () => {
    it('accepts what stripe.webhooks.generateTestHeaderString makes, with either secret of a roll', async () => {
      await expectAccepted(await send('st', { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE_NEW }) }));
      storedBefore += 1;
      await expectAccepted(await send('st', { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE_OLD }) }));
    });

    it('accepts several v1 signatures of which one matches, as Stripe sends while a secret rolls', async () => {
      const timestamp = nowSeconds();
      const mine = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE_NEW, timestamp });
      const other = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: 'whsec_someone_else', timestamp });
      await expectAccepted(await send('st', { 'stripe-signature': `${other.split(',v1=')[0]},v1=${other.split(',v1=')[1]},v1=${mine.split(',v1=')[1]},v0=00` }));
    });

    it('refuses an old timestamp, another secret and a header without t or v1', async () => {
      await expectRefused(
        await send('st', { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: STRIPE_NEW, timestamp: nowSeconds() - 600 }) }),
        expect.stringMatching(/^Stripe-Signature t= is (600|601) s old, beyond the 300 s tolerance$/) as unknown as string,
      );
      await expectRefused(await send('st', { 'stripe-signature': stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: 'whsec_someone_else' }) }), 'no v1 signature in Stripe-Signature matched');
      await expectRefused(await send('st', { 'stripe-signature': 'v1=abcd' }), 'Stripe-Signature has no t=<unix seconds>');
      await expectRefused(await send('st', { 'stripe-signature': `t=${nowSeconds()},v0=abcd` }), 'Stripe-Signature has no v1=<hex> signature');
    });
  });

  describe('hmac-sha256', () => {
    it('accepts the HMAC of the body in the header, encoding and prefix the flow names', async () => {
      await expectAccepted(await send('hm', { 'x-shopify-hmac-sha256': createHmac('sha256', HMAC_SECRET).update(BODY).digest('base64') }));
      storedBefore += 1;
      await expectAccepted(await send('hm-hex', { 'x-signature': `sha256=${createHmac('sha256', HMAC_SECRET).update(BODY).digest('hex')}` }));
    });

    it('refuses a missing prefix and a wrong signature', async () => {
      await expectRefused(await send('hm-hex', { 'x-signature': createHmac('sha256', HMAC_SECRET).update(BODY).digest('hex') }), 'X-Signature is not sha256=<hex HMAC-SHA256>');
      await expectRefused(await send('hm', { 'x-shopify-hmac-sha256': createHmac('sha256', 'nope').update(BODY).digest('base64') }), 'the signature in X-Shopify-Hmac-Sha256 did not match');
    });
  });
});
