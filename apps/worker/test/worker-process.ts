import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Flow } from '@fanout/flows';
import type { StallOptions } from '@fanout/worker';

const SCRIPT = new URL('./run-workers.mjs', import.meta.url).pathname;

export interface WorkerProcessConfig {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly flow: Flow;
  readonly recordTtlMs: number;
  readonly stall: StallOptions;
}

/** Delivery workers in a child process (run-workers.mjs), started and ready; `kill()` is a SIGKILL. */
export interface WorkerProcess {
  /** What it logged so far. */
  readonly stderr: () => string;
  kill(): Promise<void>;
}

export async function startWorkerProcess(config: WorkerProcessConfig): Promise<WorkerProcess> {
  const child: ChildProcess = spawn(process.execPath, [SCRIPT, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready\n')) resolve();
    });
    void exited.then(([code]) => reject(new Error(`worker process exited with ${String(code)} before it was ready: ${stderr}`)));
  });
  return {
    stderr: () => stderr,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}
