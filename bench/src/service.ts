import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '@fanout/redis-server';
import { spawnNode, type BenchProcess } from './processes.js';

export interface ServiceOptions {
  /** The Node binary it runs under. */
  node: string;
  /** apps/fanout/dist/main.js */
  mainScript: string;
  /** FANOUT_ROLES; all four is what `npm start` runs. */
  roles: readonly ('ingress' | 'dispatcher' | 'worker' | 'dashboard')[];
  redisUrl: string;
  flowsPath: string;
  prefix: string;
  /** Write a V8 CPU profile of this process into the folder on exit. */
  cpuProfDir?: string;
  /** Names the profile file. */
  profileName?: string;
}

export interface ServiceProcess extends BenchProcess {
  readonly url: string;
}

/** `node apps/fanout/dist/main.js start` with the given roles; ready once its /readyz answers 200. */
export async function startService(options: ServiceOptions): Promise<ServiceProcess> {
  const port = await findFreePort();
  const name = options.roles.join('+');
  const nodeArgs = options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, '--cpu-prof-name', `${options.profileName ?? name}.cpuprofile`] : [];
  const child = spawnNode({
    name: `fanout ${name}`,
    node: options.node,
    script: options.mainScript,
    args: ['start'],
    nodeArgs,
    env: {
      REDIS_URL: options.redisUrl,
      PORT: String(port),
      FANOUT_FLOWS: options.flowsPath,
      FANOUT_REDIS_PREFIX: options.prefix,
      FANOUT_ROLES: options.roles.join(','),
      LOG_LEVEL: 'warn',
      // Short: a stop must not hold the bench up; deliveries still hanging (the isolation run's dead destination) are handed back.
      FANOUT_SHUTDOWN_GRACE: '1s',
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  let exited: Error | undefined;
  child.result.catch((error: Error) => void (exited = error));
  for (;;) {
    if (exited) throw exited;
    const ok = await fetch(`${url}/readyz`).then((response) => response.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await child.stop();
      throw new Error(`${child.name} was not ready within 30 s`);
    }
    await sleep(50);
  }
  return { ...child, url };
}

export const fanoutMain = (repoRoot: string): string => join(repoRoot, 'apps', 'fanout', 'dist', 'main.js');
