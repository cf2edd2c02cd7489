import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findFreePort } from '@fanout/redis-server';
import { trackGroup, untrackGroup } from './cleanup.js';

/** The CLI every role runs: the product exactly as deployed (`fanout start`), from the build. */
export const FANOUT_MAIN = fileURLToPath(new URL('../../apps/fanout/dist/main.js', import.meta.url));

export type Role = 'ingress' | 'dispatcher' | 'worker' | 'dashboard';

/** How a process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when it did not exit in time after the harness's signal and was SIGKILLed. */
  readonly timedOut?: boolean;
}

export interface RoleProcessOptions {
  /** Unique within the scenario, e.g. `worker-2`; names the log file's lines. */
  readonly name: string;
  readonly roles: readonly Role[];
  /** REDIS_URL, FANOUT_FLOWS, FANOUT_REDIS_PREFIX, … shared by the scenario's processes. */
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr of every incarnation are appended here. */
  readonly logFile: string;
  /** How long a start may take to answer /healthz (Redis may be restarting). Default 60 s. */
  readonly startTimeoutMs?: number;
}

/**
 * One role process, restartable on the same port. An exit the harness did not cause is a
 * crash: counted, and the process is started again, as a supervisor (systemd, Kubernetes,
 * compose's restart policy) would.
 */
export interface RoleProcess {
  readonly name: string;
  readonly roles: readonly Role[];
  readonly port: number;
  readonly url: string;
  /** Where every incarnation's stdout and stderr go (its log lines). */
  readonly logFile: string;
  /** Exits the harness did not cause. */
  readonly crashes: readonly ProcessExit[];
  /** The running child's pid (the dispatcher's consumer name contains it). */
  readonly pid: number | undefined;
  /** True while a child runs. */
  readonly running: boolean;
  /** Spawns and resolves once /healthz answers; retries while a start fails (Redis still down). */
  start(): Promise<void>;
  /** Sends `signal` and resolves with the exit; a process not gone after `timeoutMs` is SIGKILLed. */
  signal(signal: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
  /** SIGKILL without waiting for a restart. */
  close(): Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function exitOf(child: ChildProcess): Promise<ProcessExit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function answersHealth(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export async function createRoleProcess(options: RoleProcessOptions): Promise<RoleProcess> {
  const port = await findFreePort();
  const url = `http://127.0.0.1:${port}`;
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const crashes: ProcessExit[] = [];
  let child: ChildProcess | undefined;
  /** Set while the harness itself stops the child, so its exit is not a crash. */
  let expectingExit = false;
  let closed = false;
  let starting: Promise<void> | undefined;

  const note = (line: string): void => {
    const fd = openSync(options.logFile, 'a');
    writeSync(fd, `# faults ${new Date().toISOString()} ${options.name}: ${line}\n`);
    closeSync(fd);
  };

  const spawnOnce = (): ChildProcess => {
    const fd = openSync(options.logFile, 'a');
    const spawned = spawn(process.execPath, [FANOUT_MAIN, 'start'], {
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...options.env, PORT: String(port), FANOUT_ROLES: options.roles.join(',') },
      stdio: ['ignore', fd, fd],
      // Its own process group, so a kill reaches everything it may have started.
      detached: true,
    });
    closeSync(fd);
    const pid = spawned.pid;
    if (pid !== undefined) trackGroup(pid);
    note(`started pid ${spawned.pid ?? '?'} (${options.roles.join(',')}) on port ${port}`);
    spawned.once('exit', (code, signal) => {
      if (pid !== undefined) untrackGroup(pid);
      note(`pid ${spawned.pid ?? '?'} exited code=${code} signal=${signal}`);
      if (child !== spawned || expectingExit || closed) return;
      crashes.push({ code, signal });
      child = undefined;
      // A supervisor's restart; failures to come up are retried inside start().
      void sleep(500).then(() => (closed ? undefined : process_.start().catch(() => {})));
    });
    return spawned;
  };

  const startLoop = async (): Promise<void> => {
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (closed) throw new Error(`${options.name} was closed while starting`);
      const spawned = spawnOnce();
      child = spawned;
      for (;;) {
        if (await answersHealth(url)) return;
        if (closed) throw new Error(`${options.name} was closed while starting`);
        if (spawned.exitCode !== null || spawned.signalCode !== null) break;
        if (Date.now() > deadline) {
          killGroup(spawned, 'SIGKILL');
          throw new Error(`${options.name} did not answer /healthz within ${startTimeoutMs} ms; see ${options.logFile}`);
        }
        await sleep(100);
      }
      // It exited before answering (Redis not back yet): try again, like a supervisor.
      if (Date.now() > deadline) throw new Error(`${options.name} kept exiting during start; see ${options.logFile}`);
      await sleep(300);
    }
  };

  const process_: RoleProcess = {
    name: options.name,
    roles: options.roles,
    port,
    url,
    logFile: options.logFile,
    crashes,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    start() {
      starting ??= startLoop().finally(() => (starting = undefined));
      return starting;
    },
    async signal(signal, timeoutMs = 30_000) {
      if (starting) await starting.catch(() => {});
      const target = child;
      if (!target) return { code: null, signal: null };
      expectingExit = true;
      try {
        note(`harness sends ${signal}`);
        killGroup(target, signal);
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
        const exit = await Promise.race([exitOf(target), timedOut]);
        clearTimeout(timer);
        if (exit !== 'timeout') return exit;
        note(`no exit ${timeoutMs} ms after ${signal}: SIGKILL`);
        killGroup(target, 'SIGKILL');
        await exitOf(target);
        return { code: null, signal: 'SIGKILL', timedOut: true };
      } finally {
        if (child === target) child = undefined;
        expectingExit = false;
      }
    },
    async close() {
      closed = true;
      await starting?.catch(() => {});
      const target = child;
      child = undefined;
      if (!target) return;
      killGroup(target, 'SIGKILL');
      await exitOf(target);
    },
  };
  return process_;
}
