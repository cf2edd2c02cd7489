import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createKeys } from '@fanout/redis';
import { replies, startReceiver, testConnection, testRedisUrl, type ScriptedReceiver } from '@fanout/testkit';
import { spawnFanout, type SpawnedFanout } from './run-fanout.js';
import { eventually, shopFlowYaml } from './running-fanout.js';

jest.setTimeout(90_000);

const TOKEN = 'replay-restart-token';
const admin = { authorization: `Bearer ${TOKEN}` };
const EVENTS = 20;

interface Replay {
  status: string;
  matched: number;
  queued: number;
  skipped: number;
  done: number;
}

// Real processes: the one running a replay is killed (SIGKILL) part way; another resumes it.
describe('a replay whose process is killed', () => {
  let dir: string;
  let receiver: ScriptedReceiver;
  const spawned: SpawnedFanout[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.script('/gone', replies.status(410));
    dir = await mkdtemp(join(tmpdir(), 'fanout-replay-restart-'));
    await writeFile(join(dir, 'shop.yaml'), shopFlowYaml(receiver.url));
    env = { REDIS_URL: testRedisUrl(), FANOUT_FLOWS: dir, FANOUT_ADMIN_TOKEN: TOKEN, FANOUT_REDIS_PREFIX: `replay-${randomUUID().slice(0, 8)}`, FANOUT_REPLAY_LEASE: '2s', FANOUT_SHUTDOWN_GRACE: '1s' };
  });
  afterAll(async () => {
    for (const fanout of spawned) {
      fanout.child.kill('SIGKILL');
      await fanout.exited;
    }
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(roles: string): Promise<SpawnedFanout> {
    const fanout = await spawnFanout({ ...env, FANOUT_ROLES: roles });
    spawned.push(fanout);
    await fanout.up();
    return fanout;
  }
  const progress = async (base: string, replay: string) => (await (await fetch(`${base}/replays/${replay}`, { headers: admin })).json()) as Replay;
  const deadLetters = async (base: string) => ((await (await fetch(`${base}/flows/shop/destinations/gone/dead-letters`, { headers: admin })).json()) as { total: number }).total;

  it('is resumed by another process: every dead letter replayed, none twice', async () => {
    // The deliveries run in a process of their own that lives throughout: only the replay is cut short.
    const delivering = await start('ingress,dispatcher,worker');
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const response = await fetch(`${delivering.base}/webhooks/shop`, { method: 'POST', body: JSON.stringify({ type: 'order.created', n: i }) });
      ids.push(((await response.json()) as { id: string }).id);
    }
    const first = await start('dashboard');
    await eventually(() => deadLetters(first.base), (total) => total === EVENTS);

    // Every replayed delivery is refused again: a dead letter replayed twice would reach the receiver a third time.
    const response = await fetch(`${first.base}/flows/shop/destinations/gone/dead-letters/replay`, { method: 'POST', headers: admin, body: JSON.stringify({ rate: '5/s', reason: 'restart test' }) });
    expect(response.status).toBe(202);
    const { replay } = (await response.json()) as { replay: string };
    await eventually(() => progress(first.base, replay), ({ done }) => done >= 5, 10_000);
    first.child.kill('SIGKILL');
    await first.exited;
    // Read in Redis: nobody runs the replay until the killed process's lease (2 s) runs out, so it was the killed one that ran it.
    const redis = testConnection(env['REDIS_URL']!);
    const record = createKeys(env['FANOUT_REDIS_PREFIX']).replays.record(replay);
    const handled = async () => (await redis.hmget(record, 'queued', 'skipped')).reduce((sum, count) => sum + Number(count ?? 0), 0);
    const killedAt = await handled();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const stalled = await handled();
    redis.disconnect();
    expect(killedAt).toBeLessThan(EVENTS);
    expect(stalled).toBe(killedAt);

    // Resumed by a process started now, or by the delivering one (every process with workers runs replays too).
    const second = await start('dashboard');

    const finished = await eventually(() => progress(second.base, replay), ({ status }) => status === 'finished', 30_000);
    expect(finished).toMatchObject({ matched: EVENTS, queued: EVENTS, skipped: 0, done: EVENTS });
    await eventually(() => deadLetters(second.base), (total) => total === EVENTS);
    const perId = ids.map((id) => receiver.requestsTo('/gone').filter((request) => request.headers['webhook-id'] === id).length);
    expect(perId).toEqual(ids.map(() => 2));
  });
});
