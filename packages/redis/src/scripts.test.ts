import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { loadScripts } from './scripts.js';

const HEADER = '--[[\n  Does a thing.\n  Input:\n    KEYS[1] a key\n    ARGV[1] a value\n  Returns nothing.\n]]\n';

function folderWith(files: Record<string, string>): URL {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-lua-'));
  mkdirSync(join(dir, 'includes'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return pathToFileURL(`${dir}/`);
}

describe('loadScripts', () => {
  it('names each script and its keys after its file, and inlines each include once', () => {
    const folder = folderWith({
      'setOne-1.lua': `${HEADER}--- @include "shared"\n--- @include "twice"\nreturn redis.call('GET', KEYS[1])\n`,
      'batch.lua': `${HEADER}return #KEYS\n`,
      'includes/shared.lua': '--- @include "twice"\nlocal function shared() return 1 end\n',
      'includes/twice.lua': 'local function twice() return 2 end\n',
    });
    const set = loadScripts(folder);
    expect(set.scripts.map(({ name, command, numberOfKeys }) => ({ name, command, numberOfKeys }))).toEqual([
      { name: 'batch', command: 'fanoutBatch', numberOfKeys: undefined },
      { name: 'setOne', command: 'fanoutSetOne', numberOfKeys: 1 },
    ]);
    const lua = set.get('setOne').lua;
    expect(lua.match(/local function twice/g)).toHaveLength(1);
    expect(lua).toContain('local function shared');
    expect(lua).not.toContain('@include');
    expect(() => set.get('missing')).toThrow('no script missing.lua');
  });

  it('refuses a script without a header, with a name that says nothing of its keys, or that uses other keys than its name counts', () => {
    expect(() => loadScripts(folderWith({ 'bare-1.lua': 'return KEYS[1]\n' }))).toThrow('bare-1.lua: a script opens with a --[[ ]] header');
    expect(() => loadScripts(folderWith({ 'bad_name-x.lua': `${HEADER}return 1\n` }))).toThrow('bad_name-x.lua: a script file is named');
    expect(() => loadScripts(folderWith({ 'two-2.lua': `${HEADER}return KEYS[3]\n` }))).toThrow('two-2.lua: its name counts 2 keys, it uses 3');
    expect(() => loadScripts(folderWith({ 'many.lua': `${HEADER}return KEYS[1]\n` }))).toThrow('many.lua: a script without a key count in its name takes its keys as #KEYS');
  });
});
