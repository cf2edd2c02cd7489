import { FanoutError } from '@fanout/core';
import type { Logger } from '@fanout/observability';
import type { Redis } from 'ioredis';

/** The Redis settings that decide whether an acknowledged event can be lost; undefined where Redis would not say. */
interface DurabilitySettings {
  readonly maxmemoryPolicy: string | undefined;
  readonly appendOnly: boolean | undefined;
}

/**
 * Checks, before any role starts, that Redis keeps what fanout acknowledges: a Redis that
 * evicts keys (`maxmemory-policy` other than `noeviction`) is refused with
 * REDIS_MISCONFIGURED; AOF off (`appendonly no`) is logged as a warning, since every event
 * since the last snapshot is lost when such a Redis restarts. Managed Redis often refuses
 * CONFIG GET, so INFO is read instead; when neither answers the check warns and passes.
 */
export async function checkRedis(redis: Redis, logger: Logger): Promise<void> {
  const { maxmemoryPolicy, appendOnly } = await readDurabilitySettings(redis);
  if (maxmemoryPolicy === undefined || appendOnly === undefined) {
    logger.warn(
      { maxmemoryPolicy: maxmemoryPolicy ?? 'unknown', appendonly: appendOnly ?? 'unknown' },
      'cannot read all of Redis maxmemory-policy and appendonly (CONFIG GET and INFO refused): make sure Redis runs with maxmemory-policy noeviction and appendonly yes',
    );
  }
  if (maxmemoryPolicy !== undefined && maxmemoryPolicy !== 'noeviction') {
    throw new FanoutError(
      'REDIS_MISCONFIGURED',
      `Redis maxmemory-policy is ${maxmemoryPolicy}; fanout needs noeviction: an evicted key is a lost event (CONFIG SET maxmemory-policy noeviction)`,
    );
  }
  if (appendOnly === false) {
    logger.warn({ appendonly: 'no' }, 'Redis AOF is off (appendonly no): events answered 202 since the last snapshot are lost when Redis restarts (CONFIG SET appendonly yes)');
  }
}

async function readDurabilitySettings(redis: Redis): Promise<DurabilitySettings> {
  const fromConfig = await readFromConfig(redis);
  if (fromConfig.maxmemoryPolicy !== undefined && fromConfig.appendOnly !== undefined) return fromConfig;
  const fromInfo = await readFromInfo(redis);
  return { maxmemoryPolicy: fromConfig.maxmemoryPolicy ?? fromInfo.maxmemoryPolicy, appendOnly: fromConfig.appendOnly ?? fromInfo.appendOnly };
}

const UNKNOWN: DurabilitySettings = { maxmemoryPolicy: undefined, appendOnly: undefined };

async function readFromConfig(redis: Redis): Promise<DurabilitySettings> {
  try {
    // One parameter per call: CONFIG GET takes several only since Redis 7.
    const [, maxmemoryPolicy] = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    return { maxmemoryPolicy, appendOnly: appendonly === undefined ? undefined : appendonly === 'yes' };
  } catch {
    return UNKNOWN;
  }
}

async function readFromInfo(redis: Redis): Promise<DurabilitySettings> {
  let info: string;
  try {
    info = await redis.info();
  } catch {
    return UNKNOWN;
  }
  const fields = new Map([...info.matchAll(/^(\w+):(.*?)\r?$/gm)].map(([, name, value]) => [name!, value!]));
  const aofEnabled = fields.get('aof_enabled');
  return { maxmemoryPolicy: fields.get('maxmemory_policy'), appendOnly: aofEnabled === undefined ? undefined : aofEnabled === '1' };
}
