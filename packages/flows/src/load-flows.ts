import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { FlowLoadError } from './errors.js';
import type { Flow } from './flow.js';
import { readFlowDocuments, uniqueFlows, type LocatedFlow } from './parse-flow-documents.js';

const FLOW_FILE_EXTENSIONS = new Set(['.yaml', '.yml']);

/**
 * Loads every flow from a DeliveryFlow YAML file, or from the `*.yaml` and `*.yml` files of a
 * folder (not its subfolders; hidden files skipped; in name order). Flows come back deeply frozen.
 * Throws `FlowLoadError` (code FLOW_INVALID) naming the file, document and path of the first problem.
 *
 * @param path a file or a folder, as in `FANOUT_FLOWS`
 * @param env where `${env:NAME}` references are looked up; default `process.env`
 */
export async function loadFlows(path: string, env: NodeJS.ProcessEnv = process.env): Promise<readonly Flow[]> {
  const located: LocatedFlow[] = [];
  for (const file of await flowFiles(path)) {
    const text = await readFile(file, 'utf8').catch((cause: unknown) => unreadable(file, cause));
    located.push(...readFlowDocuments(text, file, env));
  }
  // No flows means every webhook would get 404: almost surely a wrong FANOUT_FLOWS path or mount.
  if (located.length === 0) throw new FlowLoadError({ file: path, issues: [{ path: '', message: 'no DeliveryFlow documents found' }] });
  return uniqueFlows(located);
}

/** The flow files `loadFlows` reads from a file or folder path, in the order it reads them. */
export async function flowFiles(path: string): Promise<string[]> {
  const stats = await stat(path).catch((cause: unknown) => unreadable(path, cause));
  if (!stats.isDirectory()) return [path];
  const names = (await readdir(path)).filter((name) => !name.startsWith('.') && FLOW_FILE_EXTENSIONS.has(extname(name))).sort();
  const files: string[] = [];
  // Stat each one because symlinks (a Kubernetes ConfigMap mount is all symlinks) hide their type from readdir.
  for (const name of names) {
    const file = join(path, name);
    if ((await stat(file).catch((cause: unknown) => unreadable(file, cause))).isFile()) files.push(file);
  }
  if (files.length === 0) throw new FlowLoadError({ file: path, issues: [{ path: '', message: 'has no *.yaml or *.yml files' }] });
  return files;
}

function unreadable(file: string, cause: unknown): never {
  // Duck-typed: errors from another realm (a Jest VM, a worker) fail `instanceof Error`.
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? cause.code : undefined;
  const message = code === 'ENOENT' ? 'no such file or folder' : `cannot be read${code === undefined ? '' : ` (${code})`}`;
  throw new FlowLoadError({ file, issues: [{ path: '', message }], cause });
}
