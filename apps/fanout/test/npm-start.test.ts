import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { findFreePort } from '@fanout/redis-server';
import { testRedisUrl } from '@fanout/testkit';
import { eventually } from './running-fanout.js';

jest.setTimeout(90_000);

const root = new URL('../../../', import.meta.url).pathname;

describe('npm start and npm run demo', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-npm-start-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('runs a working example: its destinations answer, the printed token opens GET /events/:id, and SIGTERM reaches node', async () => {
    const [port, receiverPort] = [await findFreePort(), await findFreePort()];
    await writeFile(join(dir, 'example.yaml'), `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: example }\nspec:\n  destinations:\n    - { name: sink, type: http, url: "http://127.0.0.1:${receiverPort}/hook" }\n`);
    // Its own process group, so a failed test can still take down whatever npm started.
    const npm = spawn('npm', ['start'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', REDIS_URL: testRedisUrl(), PORT: String(port), FANOUT_FLOWS: dir, FANOUT_REDIS_PREFIX: `npm-start-${randomUUID().slice(0, 8)}`, FANOUT_SHUTDOWN_GRACE: '1s' },
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => output, (text) => text.includes('In another terminal') || npm.exitCode !== null, 60_000);
      expect(output).toContain(`fanout runs on ${base} (ingress, dispatcher, worker, dashboard) with flows example`);
      expect(output).toContain(`example receiver: sink on 127.0.0.1:${receiverPort}, answering 200`);
      expect(output).toContain(`export FANOUT_URL=${base}`);
      const token = /export FANOUT_ADMIN_TOKEN=(\S+)/.exec(output)?.[1];
      expect(token).toMatch(/^dev-[0-9a-f]{32}$/);

      const accepted = await fetch(`${base}/webhooks/example`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"type":"example.created"}' });
      expect(accepted.status).toBe(202);
      const { id } = (await accepted.json()) as { id: string };
      const event = await eventually(
        async () => (await fetch(`${base}/events/${id}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<{ deliveries?: { status: string }[] }>,
        (view) => view.deliveries?.[0]?.status === 'delivered',
      );
      expect(event.deliveries).toEqual([expect.objectContaining({ destination: 'sink', status: 'delivered', attempts: 1 })]);
      expect(output).toMatch(/sink +← webhook-id \S+ +\{"type":"example.created"\} +→ answers 200/);

      // To npm alone, as a supervisor or a terminal's Ctrl-C would: npm passes it on, and node must get it.
      npm.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      expect(output).toContain('signal received');
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      killGroup(npm.pid!);
    }
  });

  it('npm run demo -- --keep says where the CLI finds it, and stops on SIGTERM to npm', async () => {
    const port = await findFreePort();
    const npm = spawn('npm', ['run', 'demo', '--', '--keep'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/root', REDIS_URL: testRedisUrl(), PORT: String(port), FANOUT_SHUTDOWN_GRACE: '1s' },
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const base = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => output, (text) => text.includes('Still running') || npm.exitCode !== null, 60_000);
      expect(output).toMatch(/analytics=dead \(\d+ attempts, HTTP 500\)/);
      expect(output).toContain(`export FANOUT_URL=${base} FANOUT_ADMIN_TOKEN=demo-token`);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      npm.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } finally {
      killGroup(npm.pid!);
    }
  });
});

/** Its own process group, so a failed test can still take down whatever npm started. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // everything it started is gone already
  }
}
