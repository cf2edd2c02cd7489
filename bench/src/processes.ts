import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { LINE_PREFIX } from './child.js';

/** A Node process the bench started: a baseline, a probe or a role of the service under test. */
export interface BenchProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the child's `ready` payload (baselines), or once its /readyz answers 200 (the service). */
  readonly ready: Promise<unknown>;
  /** Resolves with the child's `result` payload; rejects when it exits without one. */
  readonly result: Promise<unknown>;
  /** Resident set size now, in bytes (from /proc). */
  rss(): number;
  /** CPU time used so far (user + system), in ms (from /proc). */
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  node: string;
  script: string;
  args?: readonly string[];
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
  env?: Record<string, string>;
  /** Passed as BENCH_OPTIONS. */
  options?: unknown;
  /** Where its stdout/stderr go besides the protocol lines; default: dropped unless BENCH_VERBOSE. */
  log?: (line: string) => void;
}

/** Every child still running, so that an interrupted bench leaves none behind. */
const running = new Set<ChildProcess>();

/** SIGKILLs every child the bench started that is still running. */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

export function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process, in ms; fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux). */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

export function spawnNode(opts: SpawnOptions): BenchProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // The bench's own NODE_OPTIONS (jest's, a debugger's) must not leak into what it measures.
  delete env['NODE_OPTIONS'];
  if (opts.options !== undefined) env['BENCH_OPTIONS'] = JSON.stringify(opts.options);
  const child: ChildProcess = spawn(opts.node, [...(opts.nodeArgs ?? []), opts.script, ...(opts.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const log = opts.log ?? (process.env['BENCH_VERBOSE'] ? (line: string) => process.stderr.write(`[${opts.name}] ${line}\n`) : () => {});
  const tail: string[] = [];
  const remember = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    log(line);
  };

  let resolveReady!: (value: unknown) => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<unknown>((resolve, reject) => ((resolveReady = resolve), (rejectReady = reject)));
  let resolveResult!: (value: unknown) => void;
  let rejectResult!: (error: Error) => void;
  const result = new Promise<unknown>((resolve, reject) => ((resolveResult = resolve), (rejectResult = reject)));
  // Callers await only the ones they need.
  ready.catch(() => {});
  result.catch(() => {});

  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith(LINE_PREFIX)) return remember(line);
    const message = JSON.parse(line.slice(LINE_PREFIX.length)) as { ready?: unknown; result?: unknown };
    if ('ready' in message) resolveReady(message.ready);
    if ('result' in message) resolveResult(message.result);
  });
  createInterface({ input: child.stderr! }).on('line', remember);

  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      const why = new Error(`${opts.name} exited (${signal ?? `code ${code}`}) ${tail.length ? `; its last lines:\n  ${tail.join('\n  ')}` : ''}`);
      rejectReady(why);
      rejectResult(why);
      resolve();
    });
  });
  child.once('error', (error) => {
    rejectReady(error);
    rejectResult(error);
  });

  return {
    name: opts.name,
    pid: child.pid ?? -1,
    ready,
    result,
    rss: () => (child.pid ? rssOf(child.pid) : 0),
    cpuMs: () => (child.pid ? cpuMsOf(child.pid) : 0),
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
