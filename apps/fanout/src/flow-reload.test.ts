import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { FanoutError } from '@fanout/core';
import { FlowLoadError, type Flow } from '@fanout/flows';
import { createLogger, createMetrics } from '@fanout/observability';
import { httpDestination, testFlow } from '@fanout/testkit';
import { createFlowReload, type FlowReloadDeps } from './flow-reload.js';

const shop = (...destinations: string[]): Flow => testFlow('shop', destinations.map((name) => httpDestination({ name, url: `http://127.0.0.1:9/${name}` })));

/** A reload over an in-memory "file": `files` is what load() reads next; apply() records what it was given. */
function harness(overrides: Partial<FlowReloadDeps> = {}) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  let inForce: readonly Flow[] = [shop('a')];
  const state = { files: inForce as readonly Flow[] | Error, applied: [] as (readonly Flow[])[] };
  const metrics = createMetrics();
  const reload = createFlowReload({
    load: async () => {
      if (state.files instanceof Error) throw state.files;
      return state.files;
    },
    current: () => inForce,
    apply: async (next) => {
      state.applied.push(next);
      inForce = next;
    },
    logger: createLogger({ destination: sink }),
    metrics,
    retryMs: 50,
    ...overrides,
  });
  const count = async (outcome: string): Promise<number> => (await metrics.flowReloads.get()).values.find((value) => value.labels.outcome === outcome)?.value ?? 0;
  return { reload, state, lines, count, inForce: () => inForce };
}

describe('createFlowReload', () => {
  it('applies changed flows and logs what changed, with every flow version', async () => {
    const h = harness();
    h.state.files = [shop('a', 'b'), testFlow('ui', [httpDestination({ name: 'u', url: 'http://127.0.0.1:9/u' })])];
    expect(await h.reload.reload('files changed')).toBe('applied');
    expect(h.inForce().map(({ name }) => name)).toEqual(['shop', 'ui']);
    const line = h.lines.find(({ msg }) => msg === 'flows.reloaded')!;
    expect(line).toMatchObject({ trigger: 'files changed', added: ['ui'], removed: [], changed: ['shop'] });
    expect(line['flows']).toEqual(h.inForce().map(({ name, version }) => ({ name, version })));
    expect(await h.count('applied')).toBe(1);
  });

  it('does nothing for files that load to the flows in force', async () => {
    const h = harness();
    h.state.files = [shop('a')];
    expect(await h.reload.reload('SIGHUP')).toBe('unchanged');
    expect(h.state.applied).toHaveLength(0);
  });

  it('refuses files that do not load with their error line, keeping the flows in force', async () => {
    const h = harness();
    const before = h.inForce();
    h.state.files = new FlowLoadError({ file: 'flows/shop.yaml', document: 1, issues: [{ path: 'spec.destinations[0].urll', message: 'unknown field' }] });
    expect(await h.reload.reload('files changed')).toBe('refused');
    expect(h.inForce()).toBe(before);
    const line = h.lines.find(({ level }) => level === 50)!;
    expect(String(line['msg'])).toMatch(/^flows\.reload_refused: flows\/shop\.yaml document 1: spec\.destinations\[0\]\.urll/);
    expect(await h.count('refused')).toBe(1);
  });

  it('refuses flows the process cannot serve (CONFIG_INVALID from apply), keeping the flows in force', async () => {
    const h = harness({
      apply: async () => {
        throw new FanoutError('CONFIG_INVALID', 'FANOUT_INGRESS_MAX_BUFFERED: too small');
      },
    });
    h.state.files = [shop('a', 'b')];
    expect(await h.reload.reload('files changed')).toBe('refused');
    expect(h.inForce().map(({ destinations }) => destinations.length)).toEqual([1]);
  });

  it('tries a reload again by itself when applying failed for another reason (Redis away)', async () => {
    let failures = 1;
    const applied: (readonly Flow[])[] = [];
    const h = harness({
      apply: async (next) => {
        if (failures-- > 0) throw new Error('Connection is closed.');
        applied.push(next);
      },
    });
    h.state.files = [shop('a', 'b')];
    expect(await h.reload.reload('files changed')).toBe('failed');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(applied).toHaveLength(1);
    expect(h.lines.some(({ msg, trigger }) => msg === 'flows.reloaded' && trigger === 'retry')).toBe(true);
  });

  it('runs one reload at a time, and one more for every burst of requests during it', async () => {
    let release: () => void = () => {};
    let calls = 0;
    const h = harness({
      load: async () => {
        calls += 1;
        if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
        return [shop('a', `d${calls}`)];
      },
    });
    const first = h.reload.reload('files changed');
    const queued = [h.reload.reload('files changed'), h.reload.reload('SIGHUP'), h.reload.reload('files changed')];
    release();
    expect(await first).toBe('applied');
    expect(await Promise.all(queued)).toEqual(['applied', 'applied', 'applied']);
    expect(calls).toBe(2);
    expect(h.inForce()[0]!.destinations.map(({ name }) => name)).toEqual(['a', 'd2']);
  });
});
