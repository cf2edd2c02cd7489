import type { Redis } from 'ioredis';

/** How close Redis is to its maxmemory, as its last `INFO memory` said. */
export interface MemoryUse {
  readonly usedBytes: number;
  /** Redis's `maxmemory`; 0 when it has none (then it never refuses writes for memory). */
  readonly maxBytes: number;
}

/** What the process knows of its Redis, refreshed in the background. */
export interface RedisHealth {
  /** False once a probe got no answer (Redis stopped, paused, unreachable), until one does again. */
  reachable(): boolean;
  /** Redis's memory use at the last probe that answered; undefined before the first. */
  memory(): MemoryUse | undefined;
  /** used / max, or undefined when Redis has no maxmemory or has not answered yet. */
  memoryShare(): number | undefined;
  stop(): void;
}

function field(info: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
  return match ? Number(match[1]) : undefined;
}

/**
 * Probes Redis every `everyMs` with `INFO memory` on `redis`, which should be a `request`
 * connection: it fails at once when Redis is down and after its command timeout when Redis
 * hangs, so `reachable()` turns false within about a second of either. Readiness, the
 * ingress's memory headroom and the admin API's fast answers read it.
 */
export function watchRedis(redis: Redis, everyMs = 1_000): RedisHealth {
  let reachable = true;
  let memory: MemoryUse | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const probe = async (): Promise<void> => {
    try {
      const info = await redis.info('memory');
      memory = { usedBytes: field(info, 'used_memory') ?? 0, maxBytes: field(info, 'maxmemory') ?? 0 };
      reachable = true;
    } catch {
      reachable = false;
    }
    if (!stopped) timer = setTimeout(() => void probe(), everyMs);
    timer?.unref();
  };
  void probe();
  return {
    reachable: () => reachable,
    memory: () => memory,
    memoryShare: () => (memory && memory.maxBytes > 0 ? memory.usedBytes / memory.maxBytes : undefined),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
