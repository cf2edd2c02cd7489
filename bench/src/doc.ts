import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';

export const RESULTS_START = '<!-- bench:results:start (written by npm run bench; edit outside these markers) -->';
export const RESULTS_END = '<!-- bench:results:end -->';
export const PROFILES_START = '<!-- bench:profiles:start (written by npm run bench -- --cpu-prof) -->';
export const PROFILES_END = '<!-- bench:profiles:end -->';

/** Replaces what is between `start` and `end` in `text`, or appends the block when the markers are missing. */
export function replaceBlock(text: string, start: string, end: string, content: string): string {
  const block = `${start}\n${content.trim()}\n${end}`;
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) return `${text.trimEnd()}\n\n${block}\n`;
  return `${text.slice(0, from)}${block}${text.slice(to + end.length)}`;
}

/** Rewrites the generated blocks of docs/benchmarks.md; what is written around them stays. */
export async function updateBenchmarksDoc(path: string, results: string | undefined, profiles: string | undefined): Promise<void> {
  let text = existsSync(path) ? await readFile(path, 'utf8') : '# Benchmarks\n';
  if (results !== undefined) text = replaceBlock(text, RESULTS_START, RESULTS_END, results);
  if (profiles !== undefined) text = replaceBlock(text, PROFILES_START, PROFILES_END, profiles);
  await writeFile(path, text);
}
