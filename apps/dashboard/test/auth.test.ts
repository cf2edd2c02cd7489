import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { httpDestination, testFlow } from '@fanout/testkit';
import { ADMIN_TOKEN, adminRequest, basic, bearer, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flows = [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/hook' })])];

const routes: { method: string; path: string }[] = [
  { method: 'GET', path: '/events/0190f5c2-0000-7000-8000-000000000000' },
  { method: 'GET', path: '/flows' },
  { method: 'GET', path: '/flows/payments' },
  { method: 'GET', path: '/flows/payments/destinations/orders/dead-letters' },
  { method: 'POST', path: '/flows/payments/destinations/orders/dead-letters/replay' },
  { method: 'GET', path: '/dispatcher/dead-letters' },
  { method: 'GET', path: '/admin/queues' },
  { method: 'GET', path: '/admin/queues/api/queues' },
];

describe('dashboard auth', () => {
  let harness: DashboardHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('answers 401 UNAUTHORIZED on every route when no admin token is configured, and says why once in the log', async () => {
    harness = await startDashboard({ flows, adminToken: undefined });
    for (const { method, path } of routes) {
      const response = await fetch(harness.url + path, { method, headers: bearer('anything') });
      expect({ path, status: response.status, body: await response.json() }).toEqual({
        path,
        status: 401,
        body: { error: { code: 'UNAUTHORIZED', message: expect.stringContaining('FANOUT_ADMIN_TOKEN') } },
      });
      expect(response.headers.get('www-authenticate')).toBeNull();
    }
    const warnings = harness.logLines.filter((line) => String(line['msg']).includes('FANOUT_ADMIN_TOKEN is not set'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.['level']).toBe(40);
  });

  it('treats an empty configured token as no token', async () => {
    harness = await startDashboard({ flows, adminToken: '' });
    const response = await fetch(`${harness.url}/flows`, { headers: bearer('') });
    expect(response.status).toBe(401);
  });

  it('refuses a missing or wrong token with a Basic challenge, so a browser prompts', async () => {
    harness = await startDashboard({ flows });
    for (const headers of [{}, bearer('wrong'), basic('admin', 'wrong'), { authorization: `Token ${ADMIN_TOKEN}` }, bearer(`${ADMIN_TOKEN}x`)]) {
      for (const { method, path } of routes) {
        const response = await fetch(harness.url + path, { method, headers });
        expect({ path, headers, status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code }).toEqual({ path, headers, status: 401, code: 'UNAUTHORIZED' });
        expect(response.headers.get('www-authenticate')).toBe('Basic realm="fanout", charset="UTF-8"');
      }
    }
  });

  it('accepts the token as Bearer, or as the Basic password with any user', async () => {
    harness = await startDashboard({ flows });
    for (const headers of [bearer(ADMIN_TOKEN), basic('admin', ADMIN_TOKEN), basic('', ADMIN_TOKEN), { authorization: `bearer ${ADMIN_TOKEN}` }]) {
      const response = await fetch(`${harness.url}/flows`, { headers });
      expect({ headers, status: response.status }).toEqual({ headers, status: 200 });
    }
  });

  it('leaves paths outside its routes to the rest of the app', async () => {
    harness = await startDashboard({ flows });
    const health = await fetch(`${harness.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const unknown = await fetch(`${harness.url}/flowsx`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('ROUTE_NOT_FOUND');
  });
});

describe('the dashboard while Redis does not answer', () => {
  let reachable = true;
  let harness: DashboardHarness;
  beforeAll(async () => {
    harness = await startDashboard({ flows: [testFlow('payments', [httpDestination({ name: 'orders', url: 'http://127.0.0.1:9/a' })])], redisReachable: () => reachable });
  });
  afterAll(() => harness.close());

  it('answers every path 503 REDIS_UNAVAILABLE at once, after checking the token, and as before once Redis answers again', async () => {
    reachable = false;
    for (const path of ['/events/some-id', '/flows/payments/destinations/orders/dead-letters', '/admin/queues/api/queues']) {
      const response = await adminRequest(`${harness.url}${path}`);
      expect([response.status, response.headers.get('retry-after'), response.body]).toEqual([503, '1', { error: { code: 'REDIS_UNAVAILABLE', message: expect.any(String) } }]);
    }
    expect((await fetch(`${harness.url}/events/some-id`)).status).toBe(401);
    reachable = true;
    expect((await adminRequest(`${harness.url}/admin/queues/api/queues`)).status).toBe(200);
  });
});
