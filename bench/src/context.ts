import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { NodeBinary } from './node-binaries.js';
import { spawnNode, type BenchProcess } from './processes.js';
import type { Sink } from './sink.js';

/** What every scenario gets: where things are, the shared Redis and sink, the timings. */
export interface BenchContext {
  /** The Node the service and the baselines run under. */
  readonly node: NodeBinary;
  readonly repoRoot: string;
  /** bench/dist */
  readonly distDir: string;
  /** apps/fanout/dist/main.js */
  readonly mainScript: string;
  readonly redisUrl: string;
  /** The bench's own connection: preloading, counting, INFO, cleaning up. */
  readonly redis: Redis;
  readonly sink: Sink;
  /** Where scenario flows are written. */
  readonly flowsDir: string;
  /** Not counted at the start of every measured run, in ms. */
  readonly warmupMs: number;
  /** The measured part of every run, in ms. */
  readonly durationMs: number;
  readonly quick: boolean;
  /** Set with --cpu-prof: the service's processes write their profiles here. */
  readonly cpuProfDir: string | undefined;
  /** A key prefix no other run used. */
  newPrefix(scenario: string): string;
  log(line: string): void;
  /** Step by step, with BENCH_VERBOSE set. */
  debug(line: string): void;
}

/** Node flags that make a process write its CPU profile as `<profile>.cpuprofile` on exit, when --cpu-prof is on. */
export function profileArgs(ctx: BenchContext, profile: string | undefined): string[] {
  return ctx.cpuProfDir && profile ? ['--cpu-prof', '--cpu-prof-dir', ctx.cpuProfDir, '--cpu-prof-name', `${profile}.cpuprofile`] : [];
}

/** Remembers how much work a profiled process did, so its profile can be read per unit (µs per delivery…). */
export function recordUnits(ctx: BenchContext, profile: string, units: number, unit: string): void {
  if (ctx.cpuProfDir) writeFileSync(join(ctx.cpuProfDir, `${profile}.units.json`), JSON.stringify({ units, unit }));
}

/** Starts one of the bench's baseline scripts (bench/dist/baselines/<name>.js) under the context's Node. */
export function startBaseline(ctx: BenchContext, name: string, options: unknown, profile?: string): BenchProcess {
  return spawnNode({ name, node: ctx.node.path, script: join(ctx.distDir, 'baselines', `${name}.js`), options, nodeArgs: profileArgs(ctx, profile) });
}
