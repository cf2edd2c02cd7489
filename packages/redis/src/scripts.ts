import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * A Lua script run as a custom ioredis command (EVALSHA, and EVAL once when Redis lacks it),
 * read from a `.lua` file: `<name>-<numberOfKeys>.lua`, or `<name>.lua` for a script whose
 * caller passes the number of keys first (one key per event of a batch, say).
 */
export interface FanoutScript {
  /** The file's name without its key count: `beginAttempt-4.lua` → `beginAttempt`. */
  readonly name: string;
  /** The command's name on a connection, `fanout` + the name: `fanoutBeginAttempt`. */
  readonly command: string;
  readonly numberOfKeys?: number;
  /** The script's source, its includes inlined. */
  readonly lua: string;
}

/** The scripts of one package, by name. */
export interface ScriptSet {
  readonly scripts: readonly FanoutScript[];
  /** The script of that name; throws at once (at module load) for a name with no file. */
  get(name: string): FanoutScript;
}

const SCRIPT_FILE = /^([a-z][A-Za-z0-9]*)(?:-(\d+))?\.lua$/;
const INCLUDE = /^--- @include "([\w-]+)"[ \t]*$/gm;
/** Every script opens with a header saying what it takes and gives (BullMQ's style). */
const HEADER = /^--\[\[[\s\S]*?\bKEYS\b[\s\S]*?\bARGV\b[\s\S]*?\bReturns?\b[\s\S]*?\]\]/;

/**
 * Reads every `*.lua` file of `folder` (its `includes/` subfolder holds fragments that scripts
 * pull in with `--- @include "name"`, each at most once). The folder is the only list of
 * scripts, so nothing can name a script that does not exist or forget one that does.
 */
export function loadScripts(folder: URL): ScriptSet {
  const scripts = readdirSync(folder)
    .filter((file) => file.endsWith('.lua'))
    .sort()
    .map((file): FanoutScript => {
      const match = SCRIPT_FILE.exec(file);
      if (!match) throw new Error(`${file}: a script file is named <name>-<number of keys>.lua or <name>.lua`);
      const name = match[1]!;
      const source = readFileSync(new URL(file, folder), 'utf8');
      if (!HEADER.test(source)) throw new Error(`${file}: a script opens with a --[[ ]] header naming its KEYS, ARGV and what it returns`);
      const lua = inlineIncludes(source, new URL('includes/', folder), new Set());
      const command = `fanout${name[0]!.toUpperCase()}${name.slice(1)}`;
      if (match[2] === undefined) {
        if (!lua.includes('#KEYS')) throw new Error(`${file}: a script without a key count in its name takes its keys as #KEYS`);
        return { name, command, lua };
      }
      // Redis Cluster routes a script by its keys: one it touches but was not given would be in the wrong slot.
      const used = Math.max(0, ...[...lua.matchAll(/KEYS\[(\d+)\]/g)].map(([, index]) => Number(index)));
      if (used !== Number(match[2])) throw new Error(`${file}: its name counts ${match[2]} keys, it uses ${used}`);
      return { name, command, numberOfKeys: used, lua };
    });
  const byName = new Map(scripts.map((script) => [script.name, script]));
  return {
    scripts,
    get(name) {
      const script = byName.get(name);
      if (!script) throw new Error(`no script ${name}.lua in ${folder.pathname}`);
      return script;
    },
  };
}

function inlineIncludes(source: string, includes: URL, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return inlineIncludes(readFileSync(new URL(`${name}.lua`, includes), 'utf8'), includes, seen);
  });
}

/** Defines each script as a command of the connection (once). */
export function defineScripts(redis: Redis, sets: readonly ScriptSet[]): void {
  for (const { scripts } of sets) {
    for (const { command, numberOfKeys, lua } of scripts) {
      if (!(command in redis)) redis.defineCommand(command, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
    }
  }
}

type ScriptArgument = string | number | Buffer;

/**
 * Runs a script defined on the connection at its creation (`createRedisConnection`'s
 * `scripts`). Never defined here, lazily: ioredis copies a connection's scripts into an
 * auto-pipeline as it creates it, and a script defined later in that tick crashes the process
 * when the pipeline answers. `Buffer` variants answer bulk strings as Buffers.
 */
export function runScript<T>(redis: Redis, script: FanoutScript, args: readonly ScriptArgument[], replies: 'text' | 'buffers' = 'text'): Promise<T> {
  const command = replies === 'buffers' ? `${script.command}Buffer` : script.command;
  const run = (redis as unknown as Record<string, unknown>)[command];
  if (typeof run !== 'function') {
    throw new Error(`this Redis connection was created without the script ${script.name}: pass its package's scripts to createRedisConnection`);
  }
  return (run as (...values: ScriptArgument[]) => Promise<T>).apply(redis, [...args]);
}
