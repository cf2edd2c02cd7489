import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createLogger } from '@fanout/observability';
import { deleteKeysUnder } from '@fanout/redis';
import { Redis } from 'ioredis';
import { readConfig } from './config.js';
import { startExampleReceiver } from './example-receiver.js';
import { startFanoutProcess } from './fanout-process.js';

// `npm run demo`: the service with the example flow (flows/payments.yaml), its two receivers,
// and a few events, so fan-out, a retry, a filtered delivery and dead letters show in seconds.
// Its keys live under a prefix of their own, deleted when it stops.
const TOKEN = 'demo-token';
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const EVENTS = [
  { type: 'payment.succeeded', id: 'pay_1001', amount: 4200 },
  { type: 'payment.failed', id: 'pay_1002', amount: 990 },
  { type: 'payment.succeeded', id: 'pay_1003', amount: 15000 },
];

interface DeliveryView {
  destination: string;
  status: string;
  attempts: number;
  lastError?: string;
}

async function main(): Promise<void> {
  const keepRunning = process.argv.includes('--keep');
  const receivers: Server[] = [
    // `orders` stumbles once (503), so its first delivery is retried; `analytics` always fails.
    await startExampleReceiver({ name: 'orders', port: 9101, answer: (nth) => (nth === 1 ? 503 : 200), log: say }),
    await startExampleReceiver({ name: 'analytics', port: 9102, answer: () => 500, log: say }),
  ];
  const config = readConfig({
    ...process.env,
    FANOUT_ADMIN_TOKEN: process.env['FANOUT_ADMIN_TOKEN'] ?? TOKEN,
    FANOUT_REDIS_PREFIX: process.env['FANOUT_REDIS_PREFIX'] ?? `demo-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error',
  });
  const fanout = await startFanoutProcess({ config, logger: createLogger({ level: config.LOG_LEVEL }), env: process.env });
  const base = `http://127.0.0.1:${fanout.port}`;
  const admin = { authorization: `Bearer ${config.FANOUT_ADMIN_TOKEN}` };
  say(`fanout runs on ${base} with flow "payments": orders (payment.succeeded only) and analytics (everything)\n`);

  const ids: string[] = [];
  for (const event of EVENTS) {
    const response = await fetch(`${base}/webhooks/payments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) });
    const { id } = (await response.json()) as { id: string };
    ids.push(id);
    say(`ingress   → POST /webhooks/payments ${event.type.padEnd(17)} → ${response.status} id ${id}`);
  }

  const settled = (deliveries: DeliveryView[]): boolean => deliveries.length > 0 && deliveries.every((d) => ['delivered', 'dead', 'filtered'].includes(d.status));
  const outcomes = new Map<string, DeliveryView[]>();
  const deadline = Date.now() + 20_000;
  while (outcomes.size < ids.length && Date.now() < deadline) {
    for (const id of ids) {
      const view = (await (await fetch(`${base}/events/${id}`, { headers: admin })).json()) as { deliveries: DeliveryView[] };
      if (settled(view.deliveries)) outcomes.set(id, view.deliveries);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }

  say('\nOutcomes (GET /events/:id):');
  for (const id of ids) {
    const line = (outcomes.get(id) ?? []).map((d) => `${d.destination}=${d.status} (${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastError ? `, ${d.lastError}` : ''})`).join('  ');
    say(`  ${id}  ${line || 'not settled yet'}`);
  }
  const deadLetters = (await (await fetch(`${base}/flows/payments/destinations/analytics/dead-letters`, { headers: admin })).json()) as { total: number };
  say(`\nanalytics has ${deadLetters.total} dead letters: GET ${base}/flows/payments/destinations/analytics/dead-letters`);

  const stop = async (): Promise<void> => {
    await fanout.shutdown();
    for (const receiver of receivers) receiver.close();
    const redis = new Redis(fanout.redisUrl);
    await deleteKeysUnder(redis, config.FANOUT_REDIS_PREFIX);
    await redis.quit();
  };
  if (keepRunning) {
    say(`Bull Board: ${base}/admin/queues (any user, password ${config.FANOUT_ADMIN_TOKEN}). Still running; Ctrl-C stops.`);
    say(`The CLI, from another terminal: export FANOUT_URL=${base} FANOUT_ADMIN_TOKEN=${config.FANOUT_ADMIN_TOKEN}; npx fanout dead-letters payments analytics`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(0)));
    return;
  }
  say('(npm run demo -- --keep leaves it running, to look around in Bull Board)');
  await stop();
  process.exit(outcomes.size === ids.length ? 0 : 1);
}

await main();
