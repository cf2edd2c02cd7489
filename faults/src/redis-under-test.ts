import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { trackPid, untrackPid } from './cleanup.js';

/** The Redis of one scenario: AOF with `appendfsync always`, so every 202 is on disk before it is answered. */
export interface RedisUnderTest {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: a crash, nothing flushed beyond what `appendfsync always` already wrote. */
  kill(): Promise<void>;
  /** Starts again on the same port and dir; resolves once it answers PING (the AOF is replayed). */
  restart(): Promise<void>;
  /**
   * `CLIENT PAUSE <ms> ALL`, sent on a connection of its own: every client, ours included,
   * waits until the pause ends. Resolves once Redis accepted the pause, not when it ends.
   */
  pause(ms: number): Promise<void>;
  /**
   * Sends a signal to redis-server by its pid: SIGSTOP freezes it (its sockets stay open,
   * commands sent meanwhile wait in them and run at SIGCONT), as a VM pause or a stalled disk would.
   */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void;
  /** A connection for the harness's own reads (queue depths, records); it reconnects by itself. */
  readonly observer: Redis;
  stop(): Promise<void>;
}

export async function startRedisUnderTest(dir: string): Promise<RedisUnderTest> {
  const server: RedisServer = await startRedisServer({ dir, appendFsync: 'always' });
  const observer = new Redis(server.url, { retryStrategy: () => 100, maxRetriesPerRequest: 3, lazyConnect: true, connectionName: 'faults-observer' });
  // The observer outlives every crash of the server; its errors are expected then.
  observer.on('error', () => {});
  await observer.connect();
  let running = true;
  // startRedisServer keeps its child to itself; the server says its own pid, for the exit hook.
  let pid: number | undefined;
  const track = async (): Promise<void> => {
    const info = await observer.info('server');
    pid = Number(/process_id:(\d+)/.exec(info)?.[1]) || undefined;
    if (pid !== undefined) trackPid(pid);
  };
  await track();
  return {
    url: server.url,
    port: server.port,
    observer,
    async kill() {
      running = false;
      await server.kill();
      if (pid !== undefined) untrackPid(pid);
    },
    async restart() {
      await server.restart();
      running = true;
      await track().catch(() => {});
    },
    async pause(ms) {
      const connection = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 0, connectionName: 'faults-pause' });
      connection.on('error', () => {});
      try {
        await connection.connect();
        await connection.call('CLIENT', 'PAUSE', String(ms), 'ALL');
      } finally {
        connection.disconnect();
      }
    },
    signal(signal) {
      if (pid === undefined) throw new Error('redis-server did not say its pid (INFO server)');
      process.kill(pid, signal);
    },
    async stop() {
      observer.disconnect();
      if (!running) return;
      // A pause left behind by a failed scenario would make SIGTERM wait for it.
      await server.kill();
      if (pid !== undefined) untrackPid(pid);
    },
  };
}
