import type { Redis } from 'ioredis';
import { redisCpuMs } from './redis-tools.js';

/** CPU ms of the processes every run shares: redis-server, and this one (the load generator and the sink). */
export interface CpuReading {
  readonly redis: number;
  readonly bench: number;
}

/** CPU ms used so far by redis-server and by this process, or since `since`. */
export async function machineCpuMs(redis: Redis, since: CpuReading = { redis: 0, bench: 0 }): Promise<CpuReading> {
  const { user, system } = process.cpuUsage();
  return { redis: (await redisCpuMs(redis)) - since.redis, bench: (user + system) / 1000 - since.bench };
}
