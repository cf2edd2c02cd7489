import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { findFreePort } from '@fanout/redis-server';

const MAIN = new URL('../dist/main.js', import.meta.url).pathname;

export interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fanout start` (with `roles`, if any) as a real process on a free port, unless `env`
 * gives PORT; `whenUp` (if given) runs once it answers /healthz (given the process, to signal it
 * and read its output so far), then SIGTERM is sent.
 */
export async function runFanout(env: Record<string, string>, whenUp?: (base: string, running: { child: ChildProcess; stdout(): string }) => Promise<void>, roles: readonly string[] = []): Promise<Exit> {
  const port = env['PORT'] ?? String(await findFreePort());
  const child = spawn(process.execPath, [MAIN, 'start', ...roles], { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env, PORT: port }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  if (whenUp) {
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const up = await fetch(`${base}/healthz`).then((response) => response.ok, () => false);
      if (up) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`fanout did not come up: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await whenUp(base, { child, stdout: () => stdout });
    child.kill('SIGTERM');
  }
  const [code] = await exited;
  return { code, stdout, stderr };
}
