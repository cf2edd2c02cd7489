import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createLogger, type Logger } from '@fanout/observability';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { Redis } from 'ioredis';
import { checkRedis } from '../src/redis-checks.js';
import { runFanout } from './run-fanout.js';

const REFUSAL = 'fanout: Redis maxmemory-policy is allkeys-lru; fanout needs noeviction: an evicted key is a lost event (CONFIG SET maxmemory-policy noeviction)';

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination: sink }), lines };
}

// Each test spawns `fanout start` (2 s on an idle machine), some a redis-server too.
jest.setTimeout(30_000);

describe('the start-up checks of Redis', () => {
  let dir: string;
  let flowFile: string;
  let evicting: RedisServer;
  let withoutAof: RedisServer;
  let sound: RedisServer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-redis-checks-'));
    flowFile = join(dir, 'good.yaml');
    await writeFile(flowFile, 'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: good }\nspec:\n  destinations:\n    - { name: sink, type: http, url: "http://127.0.0.1:9/sink" }\n');
    // The testkit's Redis may come from REDIS_URL or a container, so even the sound one is our own.
    [evicting, withoutAof, sound] = await Promise.all([
      startRedisServer({ dir: join(dir, 'evicting'), extraArgs: ['--maxmemory-policy', 'allkeys-lru'] }),
      startRedisServer({ dir: join(dir, 'without-aof'), appendOnly: false }),
      startRedisServer({ dir: join(dir, 'sound') }),
    ]);
    // A user like a managed Redis's: CONFIG refused, or CONFIG and INFO both.
    const admin = new Redis(evicting.url);
    await admin.acl('SETUSER', 'managed', 'on', '>secret', '~*', '&*', '+@all', '-config');
    await admin.acl('SETUSER', 'locked', 'on', '>secret', '~*', '&*', '+@all', '-config', '-info');
    admin.disconnect();
  });
  afterAll(async () => {
    await Promise.all([evicting.kill(), withoutAof.kill(), sound.kill()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('make `fanout start` exit non-zero with one line when Redis may evict keys', async () => {
    const { code, stderr } = await runFanout({ FANOUT_FLOWS: flowFile, REDIS_URL: evicting.url });
    expect(code).not.toBe(0);
    expect(stderr).toBe(`${REFUSAL}\n`);
  });

  it('let `fanout start` run with AOF off, with a warning in the log', async () => {
    const { code, stdout } = await runFanout({ FANOUT_FLOWS: flowFile, REDIS_URL: withoutAof.url, FANOUT_SHUTDOWN_GRACE: '1s' }, async () => {});
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, appendonly: 'no', msg: expect.stringMatching(/^Redis AOF is off \(appendonly no\)/) }));
  });

  it('pass a Redis with noeviction and AOF on without a word', async () => {
    const redis = new Redis(sound.url);
    const { logger, lines } = capturingLogger();
    try {
      await checkRedis(redis, logger);
    } finally {
      redis.disconnect();
    }
    expect(lines).toEqual([]);
  });

  it('read INFO where CONFIG GET is refused, and still refuse an evicting Redis', async () => {
    const managed = new Redis(evicting.url, { username: 'managed', password: 'secret' });
    const { logger, lines } = capturingLogger();
    try {
      await expect(managed.config('GET', 'maxmemory-policy')).rejects.toThrow(/NOPERM/);
      await expect(checkRedis(managed, logger)).rejects.toMatchObject({ code: 'REDIS_MISCONFIGURED', message: REFUSAL.replace('fanout: ', '') });
    } finally {
      managed.disconnect();
    }
    expect(lines).toEqual([]);
  });

  it('warn and carry on when neither CONFIG GET nor INFO answers', async () => {
    // ioredis's ready check reads INFO too, and would only complain on the console.
    const locked = new Redis(evicting.url, { username: 'locked', password: 'secret', enableReadyCheck: false });
    const { logger, lines } = capturingLogger();
    try {
      await checkRedis(locked, logger);
    } finally {
      locked.disconnect();
    }
    expect(lines).toEqual([expect.objectContaining({ level: 40, maxmemoryPolicy: 'unknown', appendonly: 'unknown', msg: expect.stringMatching(/^cannot read/) })]);
  });
});
