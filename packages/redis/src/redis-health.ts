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
  /**
   * Why Redis does not take fanout's writes, as its last `INFO replication` said (it is a
   * replica: after a failover, or pointed at one), or undefined while it is a primary.
   */
  refusesWrites(): string | undefined;
  stop(): void;
}

/** A replica refuses writes (READONLY); a writable one takes them but drops them at its next resync from its primary. */
function replicaRefusal(info: string): string | undefined {
  if (!/^role:slave\r?$/m.test(info)) return undefined;
  const primary = `${/^master_host:(.*?)\r?$/m.exec(info)?.[1] ?? '?'}:${field(info, 'master_port') ?? '?'}`;
  return field(info, 'slave_read_only') === 0
    ? `Redis is a writable replica of ${primary}: what fanout writes there is lost at its next resync`
    : `Redis is a read-only replica of ${primary}: it refuses writes (READONLY)`;
}

function field(info: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:(\\d+)\\r?$`, 'm').exec(info);
  return match ? Number(match[1]) : undefined;
}

/**
 * Probes Redis every `everyMs` with `INFO memory` and `INFO replication` on `redis`, which should be a `request`
 * connection: it fails at once when Redis is down and after its command timeout when Redis
 * hangs, so `reachable()` turns false within about a second of either. Readiness, the
 * ingress's memory headroom and the admin API's fast answers read it.
 */
export function watchRedis(redis: Redis, everyMs = 1_000): RedisHealth {
  let reachable = true;
  let memory: MemoryUse | undefined;
  let refusesWrites: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const probe = async (): Promise<void> => {
    try {
      // Two sections, two commands: `INFO memory replication` needs Redis 7.
      const [info, replication] = await Promise.all([redis.info('memory'), redis.info('replication')]);
      memory = { usedBytes: field(info, 'used_memory') ?? 0, maxBytes: field(info, 'maxmemory') ?? 0 };
      refusesWrites = replicaRefusal(replication);
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
    refusesWrites: () => refusesWrites,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
