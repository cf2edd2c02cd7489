import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { findFreePort, startRedisServer } from '@fanout/redis-server';
import { testRedisUrl } from '@fanout/testkit';
import { runFanout } from './run-fanout.js';

// Each test spawns `fanout start` (2 s on an idle machine), some a redis-server too.
jest.setTimeout(30_000);

describe('fanout start as a process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-process-'));
    await writeFile(
      join(dir, 'good.yaml'),
      'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: good }\nspec:\n  destinations:\n    - { name: sink, type: http, url: "http://127.0.0.1:9/sink" }\n',
    );
    await writeFile(
      join(dir, 'bad.yaml'),
      'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: bad }\nspec:\n  destinations:\n    - { name: sink, type: http, url: "http://127.0.0.1:9/sink", retry: { attempts: 0 } }\n',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exits non-zero with one line naming file, path and expectation when a flow is invalid', async () => {
    const { code, stderr } = await runFanout({ FANOUT_FLOWS: join(dir, 'bad.yaml'), REDIS_URL: testRedisUrl() });
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/bad\.yaml document 1: spec\.destinations\[0\]\.retry\.attempts: expected/);
  });

  it('exits non-zero with one line when Redis cannot be reached', async () => {
    const port = await findFreePort();
    const { code, stderr } = await runFanout({ FANOUT_FLOWS: join(dir, 'good.yaml'), REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(code).not.toBe(0);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${port}`);
  });

  it('never shows the Redis password, in the start-up log or when Redis cannot be reached', async () => {
    // A Redis user with a password; the default user stays open, so the launcher's PING still answers.
    const redisDir = await mkdtemp(join(tmpdir(), 'fanout-redis-acl-'));
    const server = await startRedisServer({ dir: redisDir, extraArgs: ['--user', 'fanout', 'on', '>s3cretpass', '~*', '&*', '+@all'] });
    try {
      const env = { FANOUT_FLOWS: join(dir, 'good.yaml'), LOG_LEVEL: 'trace', FANOUT_REDIS_PREFIX: `proc-${randomUUID().slice(0, 8)}`, FANOUT_SHUTDOWN_GRACE: '1s' };
      const up = await runFanout({ ...env, REDIS_URL: `redis://fanout:s3cretpass@127.0.0.1:${server.port}` }, async () => {});
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`"redis":"redis://fanout:***@127.0.0.1:${server.port}"`);
      expect(up.stdout + up.stderr).not.toContain('s3cretpass');

      const port = await findFreePort();
      const down = await runFanout({ ...env, REDIS_URL: `redis://fanout:s3cretpass@127.0.0.1:${port}` });
      expect(down.code).not.toBe(0);
      expect(down.stderr).toContain(`cannot reach Redis at redis://fanout:***@127.0.0.1:${port}`);
      expect(down.stdout + down.stderr).not.toContain('s3cretpass');
    } finally {
      await server.stop();
      await rm(redisDir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with one line on a bad environment variable', async () => {
    const { code, stderr } = await runFanout({ FANOUT_ROLES: 'ingress,cron', FANOUT_FLOWS: join(dir, 'good.yaml') });
    expect(code).toBe(1);
    expect(stderr).toBe('fanout: FANOUT_ROLES must be a comma-separated list of ingress, dispatcher, worker, dashboard, got "ingress,cron"\n');
  });

  it('exits 1 with one line when its port is taken', async () => {
    const taken = createServer().listen(0, '0.0.0.0');
    await once(taken, 'listening');
    const port = String((taken.address() as { port: number }).port);
    try {
      const { code, stderr } = await runFanout({ FANOUT_FLOWS: join(dir, 'good.yaml'), REDIS_URL: testRedisUrl(), FANOUT_REDIS_PREFIX: `proc-${randomUUID().slice(0, 8)}`, PORT: port });
      expect(code).toBe(1);
      expect(stderr).toBe(`fanout: port ${port} is already in use (another fanout process, or something else, listens there): set PORT to a free port\n`);
    } finally {
      taken.close();
    }
  });

  it('runs only the roles named on its command line', async () => {
    let webhook = 0;
    const { code } = await runFanout(
      { FANOUT_FLOWS: join(dir, 'good.yaml'), REDIS_URL: testRedisUrl(), FANOUT_REDIS_PREFIX: `proc-${randomUUID().slice(0, 8)}`, FANOUT_ROLES: 'ingress', FANOUT_SHUTDOWN_GRACE: '1s' },
      async (base) => {
        webhook = (await fetch(`${base}/webhooks/good`, { method: 'POST', body: 'hello' })).status;
      },
      ['dispatcher', 'worker'],
    );
    expect(webhook).toBe(404);
    expect(code).toBe(0);
  });

  it('serves webhooks and exits 0 on SIGTERM', async () => {
    let accepted = 0;
    const { code } = await runFanout(
      { FANOUT_FLOWS: join(dir, 'good.yaml'), REDIS_URL: testRedisUrl(), FANOUT_REDIS_PREFIX: `proc-${randomUUID().slice(0, 8)}`, FANOUT_SHUTDOWN_GRACE: '1s' },
      async (base) => {
        const response = await fetch(`${base}/webhooks/good`, { method: 'POST', body: 'hello' });
        if (response.status === 202) accepted += 1;
      },
    );
    expect(accepted).toBe(1);
    expect(code).toBe(0);
  });
});
