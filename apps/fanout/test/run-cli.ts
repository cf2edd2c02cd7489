import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What `npx fanout` runs: node_modules/.bin/fanout links to it. */
export const FANOUT_BIN = fileURLToPath(new URL('../bin/fanout.js', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `fanout <args>` as a process, with only PATH from this environment and `env` on top. */
export function runCli(args: readonly string[], env: Record<string, string> = {}, command: readonly string[] = [process.execPath, FANOUT_BIN]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(command[0]!, [...command.slice(1), ...args], { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
