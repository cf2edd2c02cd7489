import { FanoutError } from '@fanout/core';
import { FlowLoadError, type Flow } from '@fanout/flows';
import type { FanoutMetrics, Logger } from '@fanout/observability';

/** What a reload did. */
export type ReloadOutcome = 'applied' | 'unchanged' | 'refused' | 'failed';

export interface FlowReloadDeps {
  /** Reads the flow files (loadFlows); a FlowLoadError refuses the reload. */
  load(): Promise<readonly Flow[]>;
  /** The flows in force. */
  current(): readonly Flow[];
  /**
   * Puts `next` in force, `previous` being the flows in force until now. Throwing leaves
   * `previous` in force: a FanoutError CONFIG_INVALID refuses the files; anything else
   * (Redis away) fails the reload, tried again after `retryMs`.
   */
  apply(next: readonly Flow[], previous: readonly Flow[]): Promise<void>;
  readonly logger: Logger;
  readonly metrics: Pick<FanoutMetrics, 'flowReloads'>;
  /** How soon a failed reload is tried again, ms. Default 5000. */
  readonly retryMs?: number;
}

export interface FlowReload {
  /** Reads the files and puts them in force if they load and differ; one reload at a time, a request during one runs once it ends. */
  reload(trigger: string): Promise<ReloadOutcome>;
  close(): void;
}

/** A flow as it acts (its version covers routing only; URLs, secrets and limits change too). */
const flowText = (flow: Flow): string => JSON.stringify({ source: flow.source, destinations: flow.destinations });

/** Which flows a reload adds, removes and changes, by name. */
function diffFlows(previous: readonly Flow[], next: readonly Flow[]): { added: string[]; removed: string[]; changed: string[] } {
  const before = new Map(previous.map((flow) => [flow.name, flow]));
  const after = new Map(next.map((flow) => [flow.name, flow]));
  return {
    added: next.filter(({ name }) => !before.has(name)).map(({ name }) => name),
    removed: previous.filter(({ name }) => !after.has(name)).map(({ name }) => name),
    changed: next.filter((flow) => before.has(flow.name) && flowText(before.get(flow.name)!) !== flowText(flow)).map(({ name }) => name),
  };
}

/**
 * Hot reload of the flow files: load, compare, apply, each reload whole or not at all. A file
 * that does not load is refused with its one error line (file, document, path), and the flows
 * in force stay in force; so do they when applying fails, which is tried again.
 */
export function createFlowReload({ load, current, apply, logger, metrics, retryMs = 5_000 }: FlowReloadDeps): FlowReload {
  let running: Promise<ReloadOutcome> | undefined;
  let queued: Promise<ReloadOutcome> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let closed = false;

  const outcome = (value: ReloadOutcome): ReloadOutcome => {
    metrics.flowReloads.inc({ outcome: value });
    return value;
  };

  const refused = (trigger: string, error: Error): ReloadOutcome => {
    logger.error({ trigger, error: error.message }, `flows.reload_refused: ${error.message}; the flows in force stay in force`);
    return outcome('refused');
  };
  const failed = (trigger: string, error: unknown): ReloadOutcome => {
    logger.warn({ err: error, trigger, retryInMs: retryMs }, 'flows.reload_failed: the flows in force stay in force');
    if (!closed) {
      retry = setTimeout(() => void reload('retry'), retryMs);
      retry.unref();
    }
    return outcome('failed');
  };

  const reloadOnce = async (trigger: string): Promise<ReloadOutcome> => {
    clearTimeout(retry);
    let next: readonly Flow[];
    try {
      next = await load();
    } catch (error) {
      return error instanceof FlowLoadError ? refused(trigger, error) : failed(trigger, error);
    }
    const previous = current();
    const { added, removed, changed } = diffFlows(previous, next);
    if (added.length + removed.length + changed.length === 0) {
      logger.info({ trigger }, 'flows.unchanged');
      return outcome('unchanged');
    }
    try {
      await apply(next, previous);
    } catch (error) {
      return error instanceof FanoutError && error.code === 'CONFIG_INVALID' ? refused(trigger, error) : failed(trigger, error);
    }
    logger.info({ trigger, flows: next.map(({ name, version }) => ({ name, version })), added, removed, changed }, 'flows.reloaded');
    return outcome('applied');
  };

  const reload = (trigger: string): Promise<ReloadOutcome> => {
    if (closed) return Promise.resolve('unchanged');
    if (running) {
      // One more reload after the one running, however many ask meanwhile: it reads the files as they are then.
      queued ??= running.then(() => {
        queued = undefined;
        return reload(trigger);
      });
      return queued;
    }
    running = reloadOnce(trigger).finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    reload,
    close() {
      closed = true;
      clearTimeout(retry);
    },
  };
}
