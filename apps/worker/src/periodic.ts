export interface Periodic {
  stop(): void;
}

/**
 * Runs `task` every `everyMs`, the next run `everyMs` after the last one ended (never two at
 * once); `task` handles its own failures. The first run is `everyMs` after the start.
 */
export function startPeriodic(task: (stopped: () => boolean) => Promise<void>, everyMs: number): Periodic {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const isStopped = (): boolean => stopped;
  const round = (): void => {
    void task(isStopped).then(() => {
      if (!stopped) timer = setTimeout(round, everyMs);
    });
  };
  timer = setTimeout(round, everyMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
