/**
 * Every process a scenario started, so that none outlives the harness: on exit, and on
 * SIGINT/SIGTERM (which would otherwise end Node without running exit handlers), each is
 * SIGKILLed. Role processes are killed by process group.
 */
const groups = new Set<number>();
const pids = new Set<number>();
let installed = false;

function killAll(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Kill this process group when the harness ends. */
export function trackGroup(pid: number): void {
  install();
  groups.add(pid);
}

export function untrackGroup(pid: number): void {
  groups.delete(pid);
}

/** Kill this process when the harness ends. */
export function trackPid(pid: number): void {
  install();
  pids.add(pid);
}

export function untrackPid(pid: number): void {
  pids.delete(pid);
}
