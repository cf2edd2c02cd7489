import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';

/** A destination that keeps what the logger writes. */
function capture(): { lines: string[]; destination: Writable } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, destination };
}

describe('createLogger', () => {
  it('writes one JSON object per line by default', () => {
    const { lines, destination } = capture();
    createLogger({ base: { service: 'fanout' }, destination }).info({ port: 8080 }, 'fanout is running');
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, service: 'fanout', port: 8080, msg: 'fanout is running' });
  });

  it('writes one readable line per entry in the pretty format, secrets still redacted', () => {
    const { lines, destination } = capture();
    createLogger({ base: { service: 'fanout' }, format: 'pretty', destination }).warn({ port: 8080, headers: { authorization: 'Bearer s3cr3t' } }, 'fanout is running');
    const text = lines.join('');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*WARN.*: .*fanout is running.* \{"port":8080,"headers":\{"authorization":"\[redacted\]"\}\}/);
    expect(text).not.toContain('s3cr3t');
  });
});

describe('createMetrics', () => {
  it("names Node's own metrics fanout_process_ and fanout_nodejs_, never fanout_process_process_", async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).toContain('fanout_process_cpu_seconds_total');
    expect(text).toContain('fanout_nodejs_eventloop_lag_seconds');
    expect(text).not.toContain('fanout_process_process_');
    expect(text).not.toContain('fanout_process_nodejs_');
  });
});
