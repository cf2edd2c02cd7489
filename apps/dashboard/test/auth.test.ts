import { request } from 'node:http';
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
  { method: 'POST', path: '/dispatcher/dead-letters/replay' },
  { method: 'GET', path: '/replays' },
  { method: 'GET', path: '/admin/queues' },
  { method: 'GET', path: '/admin/queues/api/queues' },
];

/** Every way of writing `path` that a server or proxy might read as it: case, `//`, `.` and `..`, percent-encoding once and twice, a trailing `/`. */
function spellings(path: string): string[] {
  const [first = '', ...rest] = path.slice(1).split('/');
  const tail = rest.length > 0 ? `/${rest.join('/')}` : '';
  const encoded = (text: string): string => [...text].map((char) => `%${char.charCodeAt(0).toString(16)}`).join('');
  return [
    path,
    path.toUpperCase(),
    `/${first[0]!.toUpperCase()}${first.slice(1)}${tail}`,
    `${path}/`,
    `/${path}`,
    `/${first}/${tail}`,
    `/./${first}${tail}`,
    `/webhooks/../${first}${tail}`,
    `/${first}/./x/..${tail}`,
    `/${encoded(first)}${tail}`,
    `/%25${first.charCodeAt(0).toString(16)}${first.slice(1)}${tail}`,
    `/${first}%2f${tail.slice(1)}`,
  ];
}

/** A request with the path sent exactly as written (fetch would normalise it first). */
function rawRequest(base: string, method: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

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

  // Some thousand requests, one after the other: seconds on a busy machine.
  it('refuses every admin and Bull Board path without the token, whatever its spelling and method', async () => {
    harness = await startDashboard({ flows });
    const paths = [...routes.map(({ path }) => path), '/admin/queues/api/queues/payments.orders/retry/failed', '/admin/queues/api/queues/payments.orders/empty', '/admin/queues/static/js/main.js'];
    const answered: string[] = [];
    for (const path of paths) {
      for (const spelling of spellings(path)) {
        for (const method of ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE']) {
          const { status, body } = await rawRequest(harness.url, method, spelling);
          if (status !== 401 || (method !== 'HEAD' && !body.includes('"UNAUTHORIZED"'))) answered.push(`${method} ${spelling}: ${status}`);
        }
      }
    }
    expect(answered).toEqual([]);
  }, 30_000);

  it('answers a path that is not valid percent-encoding with 400, not 500', async () => {
    harness = await startDashboard({ flows });
    for (const path of ['/flows/%ff', '/admin/queues/%c3%28', '/%E0%A4%A']) {
      const { status, body } = await rawRequest(harness.url, 'GET', path);
      expect({ path, status, body: JSON.parse(body) as unknown }).toEqual({ path, status: 400, body: { error: { code: 'REQUEST_INVALID', message: 'the path is not valid percent-encoded UTF-8' } } });
    }
    expect(harness.logLines.filter((line) => line['level'] === 50)).toEqual([]);
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
