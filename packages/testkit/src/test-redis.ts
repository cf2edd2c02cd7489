import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisServer } from '@fanout/redis-server';

/** Where the integration tests' Redis came from, and how to let it go. */
export interface TestRedis {
  readonly url: string;
  readonly source: 'REDIS_URL' | 'testcontainers' | 'redis-server';
  release(): Promise<void>;
}

function dockerEngineReachable(): boolean {
  const host = process.env['DOCKER_HOST'];
  if (host) return true;
  return existsSync('/var/run/docker.sock');
}

/**
 * A Redis for tests, never the machine's shared one on 6379: `REDIS_URL` when set, else a
 * Testcontainers Redis where a Docker engine answers, else a `redis-server` on a free port.
 */
export async function acquireTestRedis(): Promise<TestRedis> {
  const url = process.env['REDIS_URL'];
  if (url) return { url, source: 'REDIS_URL', release: async () => {} };
  if (dockerEngineReachable()) {
    try {
      // Loaded only here: Testcontainers pulls in a large dependency tree most runs never need.
      const { RedisContainer } = await import('@testcontainers/redis');
      const container = await new RedisContainer('redis:7-alpine').start();
      return { url: container.getConnectionUrl(), source: 'testcontainers', release: async () => void (await container.stop()) };
    } catch {
      // A socket that no engine answers on: fall through to a local redis-server.
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'fanout-test-redis-'));
  const server = await startRedisServer({ dir });
  return {
    url: server.url,
    source: 'redis-server',
    release: async () => {
      // Its data is thrown away, so there is nothing to flush: kill rather than wait for a clean shutdown.
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
