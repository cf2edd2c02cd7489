import { describe, expect, it } from '@jest/globals';
import { packageOf, summarizeProfile } from './cpuprofile.js';

describe('packageOf', () => {
  it('names the package a frame belongs to', () => {
    expect(packageOf('file:///work/main/node_modules/ioredis/built/Pipeline.js')).toBe('ioredis');
    expect(packageOf('file:///work/main/node_modules/@bull-board/api/dist/x.js')).toBe('@bull-board/api');
    expect(packageOf('node:internal/streams/writable')).toBe('node (core)');
    expect(packageOf('file:///work/main/apps/worker/dist/deliver.js')).toBe('fanout apps/worker');
    expect(packageOf('')).toBe('(native/gc/idle)');
  });
});

describe('summarizeProfile', () => {
  it('sums self time per function and per package', () => {
    const frame = (id: number, functionName: string, url: string) => ({ id, callFrame: { functionName, url, lineNumber: 9 } });
    const profile = {
      nodes: [frame(1, '(root)', ''), frame(2, 'send', 'file:///x/node_modules/undici/lib/a.js'), frame(3, 'deliver', 'file:///x/apps/worker/dist/deliver.js'), frame(4, '(idle)', '')],
      samples: [2, 2, 3, 4],
      timeDeltas: [100, 100, 200, 600],
    };
    const summary = summarizeProfile(profile, 10);
    expect(summary.durationMs).toBeCloseTo(1);
    expect(summary.topFunctions[0]).toMatchObject({ name: '(idle)', share: 0.6 });
    expect(summary.topFunctions.find((f) => f.name === 'send')).toMatchObject({ share: 0.2, us: 200, where: 'undici a.js:10' });
    expect(summary.byPackage.map(({ name }) => name)).toEqual(['(idle)', 'undici', 'fanout apps/worker']);
  });
});
