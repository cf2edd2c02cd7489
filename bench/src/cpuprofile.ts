/**
 * Sums a V8 .cpuprofile (node --cpu-prof) by function: self time, and the share of the
 * samples per package (node_modules/<name>, node: internals, the project's own code).
 * `node bench/dist/cpuprofile.js <file.cpuprofile> [top] [units unit]` prints both,
 * per unit of work when told how much the process did.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameTotal {
  readonly name: string;
  readonly where: string;
  /** Share of all samples, 0..1. */
  readonly share: number;
  /** Sampled time, µs. */
  readonly us: number;
}

export interface ProfileSummary {
  readonly durationMs: number;
  readonly topFunctions: FrameTotal[];
  readonly byPackage: FrameTotal[];
}

/** The package a script URL belongs to: `node_modules/<pkg>` (scoped included), `node:…`, `fanout/<dir>` or `(native)`. */
export function packageOf(url: string): string {
  if (!url) return '(native/gc/idle)';
  if (url.startsWith('node:')) return 'node (core)';
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  const own = /\/(packages|apps|bench)\/([^/]+)\//.exec(url);
  if (own) return `fanout ${own[1]}/${own[2]}`;
  return url;
}

export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const name = functionName || '(anonymous)';
    const pkg = packageOf(url);
    if (name === '(idle)' || name === '(program)' || name === '(garbage collector)') {
      packages.set(name, (packages.get(name) ?? 0) + us);
    } else {
      packages.set(pkg, (packages.get(pkg) ?? 0) + us);
    }
    const where = url ? `${pkg} ${url.split('/').pop()}:${lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const entry = functions.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number): number => (totalUs === 0 ? 0 : us / totalUs);
  return {
    durationMs: totalUs / 1000,
    topFunctions: [...functions.values()].sort((a, b) => b.us - a.us).slice(0, top).map(({ name, where, us }) => ({ name, where, share: share(us), us })),
    byPackage: [...packages].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, where: '', share: share(us), us })),
  };
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** What the profiled process did, to read its time per unit of work. */
export interface ProfileUnits {
  readonly units: number;
  /** `delivery`, `job`, `request`… */
  readonly unit: string;
}

export function formatProfile(summary: ProfileSummary, work?: ProfileUnits): string {
  const pct = (share: number): string => `${(share * 100).toFixed(1)}%`.padStart(6);
  const perUnit = (us: number): string => (work && work.units > 0 ? `${(us / work.units).toFixed(1)} µs/${work.unit}`.padStart(10 + work.unit.length) : '');
  const plural = work ? (work.unit.endsWith('y') ? `${work.unit.slice(0, -1)}ies` : `${work.unit}s`) : '';
  const idle = summary.byPackage.filter(({ name }) => name === '(idle)').reduce((sum, { us }) => sum + us, 0);
  return [
    `${(summary.durationMs / 1000).toFixed(1)} s sampled, ${((summary.durationMs * 1000 - idle) / 1e6).toFixed(1)} s busy${work ? `; ${Math.round(work.units).toLocaleString('en-US')} ${plural}, ${((summary.durationMs * 1000 - idle) / work.units).toFixed(0)} µs busy per ${work.unit}` : ''}`,
    'self time by package:',
    ...summary.byPackage.map(({ name, share, us }) => `  ${pct(share)} ${perUnit(us)}  ${name}`),
    'top functions by self time:',
    ...summary.topFunctions.map(({ name, where, share, us }) => `  ${pct(share)} ${perUnit(us)}  ${name}  ${where}`),
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top, units, unit] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node bench/dist/cpuprofile.js <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatProfile(summarizeProfile(readProfile(file), top ? Number(top) : 15), units ? { units: Number(units), unit: unit ?? 'unit' } : undefined)}\n`);
}
