/**
 * The protocol between the bench and the processes it starts (baselines and probes): the
 * parent passes the options as JSON in BENCH_OPTIONS, the child writes one line
 * `@bench {"ready": …}` once it takes load and one `@bench {"result": …}` when it is done.
 * Everything else a child prints is passed through as its log.
 */
export const LINE_PREFIX = '@bench ';

export function childOptions<T>(): T {
  const raw = process.env['BENCH_OPTIONS'];
  if (!raw) throw new Error('BENCH_OPTIONS is not set: this script is started by the bench');
  return JSON.parse(raw) as T;
}

export function announce(message: { ready: unknown } | { result: unknown }): void {
  process.stdout.write(`${LINE_PREFIX}${JSON.stringify(message)}\n`);
}

/** Runs `stop` on SIGTERM/SIGINT, then exits 0. */
export function onStop(stop: () => Promise<void> | void): void {
  const handler = (): void => {
    Promise.resolve(stop()).then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
