import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { FanoutError } from '@fanout/core';
import type { Logger } from '@fanout/observability';
import { pingRedis, startRedisServer } from '@fanout/redis-server';

/** The Redis this process uses; `release` stops it when it is a private one we started. */
export interface RedisEndpoint {
  readonly url: string;
  readonly release: () => Promise<void>;
}

const DEFAULT_PORT = 6379;

function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * `REDIS_URL` when set. Otherwise 127.0.0.1:6379 when something answers there; otherwise a
 * private redis-server (AOF on) with its data in `<dataDir>/redis`, so `npm start` works on
 * a machine that merely has Redis installed.
 */
export async function resolveRedisEndpoint(redisUrl: string | undefined, dataDir: string, logger: Logger): Promise<RedisEndpoint> {
  const nothingToRelease = async (): Promise<void> => {};
  if (redisUrl) return { url: redisUrl, release: nothingToRelease };
  if (await pingRedis(DEFAULT_PORT)) return { url: `redis://127.0.0.1:${DEFAULT_PORT}`, release: nothingToRelease };
  if (!redisServerOnPath()) {
    throw new FanoutError(
      'REDIS_UNAVAILABLE',
      `no Redis answers on 127.0.0.1:${DEFAULT_PORT} and redis-server is not on PATH: set REDIS_URL, or install Redis (apt-get install redis-server, brew install redis) or run docker compose up`,
    );
  }
  const dir = resolve(dataDir, 'redis');
  const server = await startRedisServer({ dir, port: DEFAULT_PORT });
  logger.info({ url: server.url, dir }, 'started a private redis-server (AOF on) because nothing answered on 127.0.0.1:6379');
  return { url: server.url, release: () => server.stop() };
}
