import { describe, expect, it } from '@jest/globals';
import { replaceBlock } from './doc.js';

describe('replaceBlock', () => {
  it('replaces what is between the markers and keeps the rest', () => {
    const text = '# Benchmarks\nintro\n<!-- a -->\nold\n<!-- b -->\nanalysis\n';
    expect(replaceBlock(text, '<!-- a -->', '<!-- b -->', 'new\n')).toBe('# Benchmarks\nintro\n<!-- a -->\nnew\n<!-- b -->\nanalysis\n');
  });

  it('appends the block when the markers are missing', () => {
    expect(replaceBlock('# Benchmarks\n', '<!-- a -->', '<!-- b -->', 'new')).toBe('# Benchmarks\n\n<!-- a -->\nnew\n<!-- b -->\n');
  });
});
