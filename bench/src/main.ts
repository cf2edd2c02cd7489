#!/usr/bin/env node
/**
 * npm run bench: starts a private redis-server and a sink, then, under each Node asked for,
 * runs the service's roles as child processes against their baselines on the same Redis,
 * prints one table, and writes docs/benchmarks.md and a JSON file. Every figure is read as
 * a ratio against a baseline of the same run: the machines here are shared and noisy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem, type as osType, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startRedisServer } from '@fanout/redis-server';
import { DELIVERY_SCRIPTS } from '@fanout/delivery';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { createRedisConnection } from '@fanout/redis';
import { parseArgs, SCENARIOS, USAGE, type Scenario } from './args.js';
import type { BenchContext } from './context.js';
import { formatProfile, readProfile, summarizeProfile, type ProfileUnits } from './cpuprofile.js';
import { updateBenchmarksDoc } from './doc.js';
import { describeNode, fetchNode24, type NodeBinary } from './node-binaries.js';
import { killAll } from './processes.js';
import { buildTable, describeRun, renderMarkdown, renderText, TARGETS } from './report.js';
import type { BenchRun, NodeResults } from './results.js';
import { runDelivery } from './scenarios/delivery.js';
import { runDestinations } from './scenarios/destinations.js';
import { runFanout } from './scenarios/fanout.js';
import { runIngest } from './scenarios/ingest.js';
import { runLatency, type LatencyRun } from './scenarios/latency.js';
import { runMemory } from './scenarios/memory.js';
import { runOrdering } from './scenarios/ordering.js';
import { runPipeline } from './scenarios/pipeline.js';
import { formatSizing, projectSizing, sizingFigures } from './sizing.js';
import { startSink } from './sink.js';

const distDir = dirname(fileURLToPath(import.meta.url));
const benchDir = resolve(distDir, '..');
const repoRoot = resolve(benchDir, '..');
const began = performance.now();
/** Isolation runs without and with the dead destination, alternated; their medians are compared. */
const ISOLATION_PAIRS = 3;
const log = (line: string): void => void process.stderr.write(`bench ${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s: ${line}\n`);

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, process.env);
  if (args.help) return void process.stdout.write(`${USAGE}\n`);
  const wanted = (scenario: Scenario): boolean => args.only.length === 0 || args.only.includes(scenario);
  // BENCH_FANOUT_MAIN runs another build of the service (another checkout's apps/fanout/dist/main.js) against the same baselines.
  const mainScript = process.env['BENCH_FANOUT_MAIN'] ?? join(repoRoot, 'apps', 'fanout', 'dist', 'main.js');
  if (!existsSync(mainScript)) throw new Error(`${mainScript} is missing: build first (npm run bench builds; or npx tsc -b)`);

  const nodePaths = args.nodes.length > 0 ? [...args.nodes] : [process.execPath];
  if (args.node24) nodePaths.push(await fetchNode24(join(benchDir, '.cache'), log));
  const nodes: NodeBinary[] = await Promise.all(nodePaths.map(describeNode));

  const startedAt = new Date();
  const clock = performance.now();
  const scratch = await mkdtemp(join(tmpdir(), 'fanout-bench-'));
  const redisServer = await startRedisServer({ dir: join(scratch, 'redis'), appendFsync: 'everysec' });
  const redis = createRedisConnection(redisServer.url, { purpose: 'background', name: 'bench', scripts: [EVENT_LOG_SCRIPTS, DELIVERY_SCRIPTS] });
  const redisVersion = /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? '?';
  const sink = await startSink();
  const profilesRoot = join(benchDir, 'results', 'profiles');
  if (args.cpuProf) await rm(profilesRoot, { recursive: true, force: true });

  let prefixes = 0;
  const results: NodeResults[] = [];
  const cleanup = async (): Promise<void> => {
    killAll();
    await sink.close().catch(() => {});
    redis.disconnect();
    await redisServer.stop().catch(() => {});
    await rm(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));

  try {
    for (const node of nodes) {
      log(`${node.label}: ${node.path}`);
      const cpuProfDir = args.cpuProf ? join(profilesRoot, node.version) : undefined;
      if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
      const ctx: BenchContext = {
        node,
        repoRoot,
        distDir,
        mainScript,
        redisUrl: redisServer.url,
        redis,
        sink,
        flowsDir: join(scratch, 'flows', node.version),
        warmupMs: args.warmupMs,
        durationMs: args.durationMs,
        quick: args.quick,
        cpuProfDir,
        newPrefix: (scenario) => `bench${++prefixes}-${scenario}`,
        log: (line) => log(`${node.label}: ${line}`),
        debug: (line) => (process.env['BENCH_VERBOSE'] ? log(`${node.label}:   ${line}`) : undefined),
      };
      const result: NodeResults = { node };
      results.push(result);
      const timed = async <T>(scenario: string, run: () => Promise<T>): Promise<T> => {
        const from = performance.now();
        const value = await run();
        ctx.log(`${scenario} took ${((performance.now() - from) / 1000).toFixed(1)} s`);
        return value;
      };
      if (wanted('ingest')) result.ingest = await timed('ingest', () => runIngest(ctx));
      if (wanted('fanout')) result.fanout = await timed('fan-out', () => runFanout(ctx));
      if (wanted('delivery')) result.delivery = await timed('delivery', () => runDelivery(ctx));
      if (wanted('pipeline')) result.pipeline = await timed('pipeline', () => runPipeline(ctx));

      let atBudget: LatencyRun | undefined;
      if (wanted('latency') || wanted('isolation')) {
        ctx.log(`latency: ${TARGETS.latencyRate} events/s`);
        const run = await timed('latency run', () => runLatency(ctx, { label: `${TARGETS.latencyRate} events/s`, rate: TARGETS.latencyRate, sampleRss: true }));
        atBudget = run;
        if (run.rss) result.rss = run.rss;
        result.latency = [run];
      }
      if (wanted('latency') && !args.quick && result.ingest && result.delivery) {
        const max = Math.min(result.ingest.fanout.perSecond, result.delivery.fanout / 2);
        result.maxEventsPerSecond = max;
        for (const share of [0.25, 0.5, 0.75]) {
          const rate = Math.max(1, Math.round(max * share));
          ctx.log(`latency: ${share * 100}% of ${Math.round(max)} events/s`);
          result.latency!.push(await runLatency(ctx, { label: `${share * 100}% of the maximum`, rate }));
        }
      }
      if (wanted('isolation') && atBudget) {
        const without = [atBudget];
        const withDead: LatencyRun[] = [];
        for (let pair = 1; pair <= (args.quick ? 1 : ISOLATION_PAIRS); pair++) {
          if (pair > 1) without.push(await runLatency(ctx, { label: `${TARGETS.latencyRate} events/s, again`, rate: TARGETS.latencyRate }));
          ctx.log(`isolation: ${TARGETS.latencyRate} events/s with a dead destination (${pair})`);
          withDead.push(await runLatency(ctx, { label: 'isolation', rate: TARGETS.latencyRate, dead: true }));
        }
        result.isolation = { without, with: withDead };
      }
      if (wanted('memory')) {
        result.memory = await timed('memory', () => runMemory(ctx));
        result.sizing = projectSizing(sizingFigures(result.memory));
      }
      if (wanted('destinations')) result.destinations = await timed('destinations', () => runDestinations(ctx));
      if (wanted('ordering')) result.ordering = await timed('ordering', () => runOrdering(ctx));
    }
  } finally {
    await cleanup();
  }

  const run: BenchRun = {
    startedAt: startedAt.toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: { cpus: cpus()[0]?.model ?? '?', cores: cpus().length, memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`, os: `${osType()} ${release()}`, loadAverage: loadavg() },
    redis: `redis-server ${redisVersion}`,
    quick: args.quick,
    warmupMs: args.warmupMs,
    durationMs: args.durationMs,
    benchNode: process.version,
    seconds: (performance.now() - clock) / 1000,
    nodes: results,
  };
  const table = buildTable(results);
  const sizings = results.flatMap((r) => (r.sizing ? [formatSizing(r.sizing, r.node.label)] : []));
  process.stdout.write(`\n${renderText(table)}\n\n`);
  for (const { title, lines } of sizings) process.stdout.write(`${title}\n${lines.map((line) => `  ${line}`).join('\n')}\n\n`);

  let profiles: string | undefined;
  if (args.cpuProf) profiles = await summarizeProfiles(profilesRoot);
  if (profiles) process.stdout.write(`${profiles}\n`);

  const resultsDir = join(benchDir, 'results');
  await mkdir(resultsDir, { recursive: true });
  const json = `${JSON.stringify(run, null, 2)}\n`;
  const stamp = run.startedAt.replace(/[:.]/g, '-');
  await writeFile(join(resultsDir, `bench-${stamp}.json`), json);
  await writeFile(join(resultsDir, 'latest.json'), json);
  log(`results: bench/results/bench-${stamp}.json`);
  if (args.writeDoc) {
    // The doc's figures come from one full run: a partial (--only) or quick run leaves them
    // alone and writes only its profiles.
    const partial = args.quick || (args.only.length > 0 && args.only.length < SCENARIOS.length);
    const profilesBlock = profiles && `Command: \`${run.command}\`, ${run.startedAt}; per process under test, self time by package and the heaviest functions, in µs per unit of work.\n\n\`\`\`\n${profiles}\n\`\`\``;
    if (!partial || profilesBlock) {
      await updateBenchmarksDoc(join(repoRoot, 'docs', 'benchmarks.md'), partial ? undefined : [describeRun(run, repoRoot), renderMarkdown(table), ...sizings.map(({ title, lines }) => `${title}:\n\n${lines.map((line) => `- ${line}`).join('\n')}`)].join('\n\n'), profilesBlock);
      log(`docs/benchmarks.md updated${partial ? ' (profiles only: a partial or quick run leaves the results alone)' : ''}`);
    }
  }
}

/** One summary per profile written under `root`, heaviest functions first. */
async function summarizeProfiles(root: string): Promise<string> {
  const out: string[] = [];
  for (const version of (await readdir(root)).sort()) {
    for (const file of (await readdir(join(root, version))).filter((name) => name.endsWith('.cpuprofile')).sort()) {
      const unitsFile = join(root, version, file.replace(/\.cpuprofile$/, '.units.json'));
      const work = existsSync(unitsFile) ? (JSON.parse(readFileSync(unitsFile, 'utf8')) as ProfileUnits) : undefined;
      out.push(`── ${version} ${file}`, formatProfile(summarizeProfile(readProfile(join(root, version, file)), 10), work), '');
    }
  }
  return out.join('\n');
}

main().catch((error: unknown) => {
  killAll();
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
