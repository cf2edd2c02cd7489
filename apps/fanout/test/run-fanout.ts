import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { findFreePort } from '@fanout/redis-server';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `fanout start` process, spawned. */
export interface SpawnedFanout {
  readonly base: string;
  readonly child: ChildProcess;
  /** Resolves once it answers /healthz; throws when it exits first or takes over 15 s. */
  up(): Promise<void>;
  /** What it printed on stdout so far. */
  stdout(): string;
  /** Resolves when it has exited, with what it printed. */
  readonly exited: Promise<Exit>;
}

/** Spawns `fanout start` (with `roles`, if any) as a real process on a free port, unless `env` gives PORT. */
export async function spawnFanout(env: Record<string, string>, roles: readonly string[] = []): Promise<SpawnedFanout> {
  const port = env['PORT'] ?? String(await findFreePort());
  const child = spawn(process.execPath, [MAIN, 'start', ...roles], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: port }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = (once(child, 'exit') as Promise<[number | null]>).then(([code]) => ({ code, stdout, stderr }));
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    child,
    exited,
    stdout: () => stdout,
    async up() {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const up = await fetch(`${base}/healthz`).then((response) => response.ok, () => false);
        if (up) return;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`fanout did not come up: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}

/**
 * Runs `fanout start` (with `roles`, if any) as a real process on a free port, unless `env`
 * gives PORT; `whenUp` (if given) runs once it answers /healthz (given the process, to signal it
 * and read its output so far), then SIGTERM is sent.
 */
export async function runFanout(env: Record<string, string>, whenUp?: (base: string, running: { child: ChildProcess; stdout(): string }) => Promise<void>, roles: readonly string[] = []): Promise<Exit> {
  const fanout = await spawnFanout(env, roles);
  if (whenUp) {
    await fanout.up();
    await whenUp(fanout.base, fanout);
    fanout.child.kill('SIGTERM');
  }
  return fanout.exited;
}
