import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { httpDestination, testFlow } from '@fanout/testkit';
import { adminRequest, startDashboard, type DashboardHarness } from './dashboard-harness.js';

const flows = [
  testFlow('payments', [
    httpDestination({
      name: 'orders',
      url: 'https://hooks:s3cr3t-pass@orders.example.com/hook?team=orders&api_key=k-123',
      headers: { 'X-Team': 'orders', Authorization: 'Bearer live-abc', 'X-Api-Key': 'key-123', 'X-Auth-Token': 'tok-123', 'X-Signature': 'sig-999', Cookie: 'session=1', 'X-Client-Secret': 'shh' },
    }),
  ]),
  testFlow('audit', [httpDestination({ name: 'log', url: 'https://audit.example.com/in' })]),
];

describe('GET /flows', () => {
  let harness: DashboardHarness;
  beforeAll(async () => {
    harness = await startDashboard({ flows });
  });
  afterAll(() => harness.close());

  it('lists the loaded flows with credentials masked and everything else as loaded', async () => {
    const response = await adminRequest(`${harness.url}/flows`);
    expect(response.status).toBe(200);
    const text = JSON.stringify(response.body);
    for (const secret of ['s3cr3t-pass', 'live-abc', 'key-123', 'k-123', 'tok-123', 'sig-999', 'session=1', 'shh']) expect(text).not.toContain(secret);
    const { items } = response.body as { items: { name: string }[] };
    expect(items.map((flow) => flow.name)).toEqual(['payments', 'audit']);
    const audit = JSON.parse(JSON.stringify(flows[1])) as { destinations: object[] };
    expect(items[1]).toEqual({ ...audit, destinations: audit.destinations.map((destination) => ({ ...destination, state: 'closed' })) });
  });

  it('answers one flow by name, masked', async () => {
    const response = await adminRequest(`${harness.url}/flows/payments`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      ...JSON.parse(JSON.stringify(flows[0])),
      destinations: [
        expect.objectContaining({
          name: 'orders',
          url: 'https://hooks:***@orders.example.com/hook?team=orders&api_key=***',
          headers: { 'X-Team': 'orders', Authorization: '***', 'X-Api-Key': '***', 'X-Auth-Token': '***', 'X-Signature': '***', Cookie: '***', 'X-Client-Secret': '***' },
          retry: flows[0]?.destinations[0]?.retry,
          timeoutMs: 2_000,
          state: 'closed',
        }),
      ],
    });
  });

  it('answers 404 FLOW_NOT_FOUND for a flow that is not loaded', async () => {
    const response = await adminRequest(`${harness.url}/flows/nope`);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'FLOW_NOT_FOUND', message: expect.stringContaining('nope') } });
  });
});
