import { describe, expect, it } from '@jest/globals';
import { parseArgs } from './args.js';

describe('parseArgs', () => {
  it('defaults to full runs under the bench\'s own Node', () => {
    expect(parseArgs([])).toMatchObject({ quick: false, warmupMs: 1_000, durationMs: 3_000, nodes: [], node24: false, only: [], writeDoc: true });
  });

  it('shortens everything with --quick unless told otherwise', () => {
    expect(parseArgs(['--quick'])).toMatchObject({ quick: true, warmupMs: 500, durationMs: 1_000 });
    expect(parseArgs(['--quick', '--duration', '3'])).toMatchObject({ durationMs: 3_000 });
  });

  it('takes Node binaries from --node (repeatable) or BENCH_NODE', () => {
    expect(parseArgs(['--node', '/a/node', '--node=/b/node']).nodes).toEqual(['/a/node', '/b/node']);
    expect(parseArgs([], { BENCH_NODE: '/a/node,/b/node' }).nodes).toEqual(['/a/node', '/b/node']);
    expect(parseArgs(['--node', '/c/node'], { BENCH_NODE: '/a/node' }).nodes).toEqual(['/c/node']);
  });

  it('refuses unknown options and scenarios with the reason', () => {
    expect(() => parseArgs(['--fast'])).toThrow('unknown option --fast');
    expect(() => parseArgs(['--only', 'ingest,speed'])).toThrow('unknown scenario "speed"');
    expect(() => parseArgs(['--duration', 'soon'])).toThrow('--duration expects a number of seconds');
  });
});
