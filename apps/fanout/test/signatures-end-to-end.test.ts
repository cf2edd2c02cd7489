import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createLogger } from '@fanout/observability';
import { startReceiver, testRedisUrl, type ScriptedReceiver } from '@fanout/testkit';
import { Webhook } from 'standardwebhooks';
import { readConfig } from '../src/config.js';
import { startFanoutProcess, type FanoutProcess } from '../src/fanout-process.js';

const TOKEN = 'signatures-e2e-token';
const INBOUND = 'whsec_aW5ib3VuZC1zaWduaW5nLWtleS1ieXRlcw==';
const OUTBOUND_NEW = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OUTBOUND_OLD = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

interface EventView {
  deliveries: { destination: string; status: string; attempts: number; lastError?: string }[];
}

const asStrings = (headers: IncomingHttpHeaders): Record<string, string> => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));

describe('signatures and the network guard, end to end', () => {
  let receiver: ScriptedReceiver;
  let fanout: FanoutProcess;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    dir = await mkdtemp(join(tmpdir(), 'fanout-signatures-'));
    await writeFile(
      join(dir, 'flow.yaml'),
      `apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: payments }
spec:
  source:
    verify: { type: standard-webhooks, secret: "\${env:INBOUND}" }
  defaults:
    retry: { attempts: 5, backoff: { type: fixed, delay: 50ms, jitter: none } }
  destinations:
    - name: orders
      type: http
      url: ${receiver.url}/orders
      signing: { type: standard-webhooks, secrets: ["\${env:OUTBOUND_NEW}", "\${env:OUTBOUND_OLD}"] }
    - name: metadata
      type: http
      url: http://169.254.169.254/latest/meta-data/iam/security-credentials/
`,
    );
    const config = readConfig({ REDIS_URL: testRedisUrl(), PORT: '0', FANOUT_FLOWS: dir, FANOUT_ADMIN_TOKEN: TOKEN, FANOUT_REDIS_PREFIX: `sig-${randomUUID().slice(0, 8)}`, FANOUT_SHUTDOWN_GRACE: '2s' });
    fanout = await startFanoutProcess({ config, logger: createLogger({ level: 'silent' }), env: { INBOUND, OUTBOUND_NEW, OUTBOUND_OLD } });
    base = `http://127.0.0.1:${fanout.port}`;
  });
  afterAll(async () => {
    await fanout.shutdown();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes a signed webhook, delivers it signed with both secrets of the rotation, and dead-letters the denied destination at its first attempt', async () => {
    const body = '{"type":"payment.succeeded","id":"pay_1"}';
    const accepted = await fetch(`${base}/webhooks/payments`, { method: 'POST', headers: { 'content-type': 'application/json', ...inboundHeaders(body) }, body });
    expect(accepted.status).toBe(202);
    const { id } = (await accepted.json()) as { id: string };

    const [delivered] = await receiver.waitFor('/orders', 1);
    const headers = asStrings(delivered!.headers);
    expect(headers['webhook-id']).toBe(id);
    for (const secret of [OUTBOUND_NEW, OUTBOUND_OLD]) expect(new Webhook(secret).verify(delivered!.body.toString(), headers)).toEqual({ type: 'payment.succeeded', id: 'pay_1' });

    let view: EventView | undefined;
    for (let tries = 0; tries < 100; tries++) {
      view = (await (await fetch(`${base}/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as EventView;
      if (view.deliveries.every(({ status }) => status === 'delivered' || status === 'dead')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(view?.deliveries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ destination: 'orders', status: 'delivered', attempts: 1 }),
        expect.objectContaining({ destination: 'metadata', status: 'dead', attempts: 1, lastError: 'destination address 169.254.169.254 is denied' }),
      ]),
    );
  });

  it('refuses an unsigned webhook with 401 and stores nothing', async () => {
    const refused = await fetch(`${base}/webhooks/payments`, { method: 'POST', body: '{"type":"forged"}' });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('SIGNATURE_INVALID');
  });
});

function inboundHeaders(body: string): Record<string, string> {
  const id = `msg_${randomUUID()}`;
  const seconds = Math.floor(Date.now() / 1_000);
  return { 'webhook-id': id, 'webhook-timestamp': String(seconds), 'webhook-signature': new Webhook(INBOUND).sign(id, new Date(seconds * 1_000), body) };
}
