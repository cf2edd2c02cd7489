import { mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { flowFilesFingerprint, loadFlows, watchFlowFiles, type FlowFileWatch } from '@fanout/flows';
import { createConfigMapVolume } from '@fanout/testkit';

const flowYaml = (destinations: readonly string[]): string =>
  [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    'metadata: { name: shop }',
    'spec:',
    '  destinations:',
    ...destinations.map((name) => `    - { name: ${name}, type: http, url: "http://127.0.0.1:9/${name}" }`),
    '',
  ].join('\n');

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with how long it took for `changes` to reach `count`; rejects after `ms`. */
async function changesReach(changes: () => number, count: number, ms: number): Promise<number> {
  const started = Date.now();
  while (changes() < count) {
    if (Date.now() - started > ms) throw new Error(`${changes()} changes seen after ${ms} ms, expected ${count}`);
    await sleep(10);
  }
  return Date.now() - started;
}

describe('watchFlowFiles', () => {
  let dir: string;
  let watch: FlowFileWatch | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-watch-'));
  });
  afterEach(async () => {
    watch?.close();
    watch = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it("sees a ConfigMap volume's atomic ..data swap through fs.watch of the folder, each swap once", async () => {
    const volume = await createConfigMapVolume(join(dir, 'flows'), { 'shop.yaml': flowYaml(['a']) });
    let changes = 0;
    // The poll a minute away: what is seen is fs.watch's doing.
    watch = watchFlowFiles({ path: volume.path, loaded: await flowFilesFingerprint(volume.path), pollMs: 60_000, onChange: () => (changes += 1) });
    await sleep(100);
    await volume.update({ 'shop.yaml': flowYaml(['a', 'b']) });
    expect(await changesReach(() => changes, 1, 2_000)).toBeLessThan(2_000);
    expect((await loadFlows(volume.path, {}))[0]!.destinations.map(({ name }) => name)).toEqual(['a', 'b']);
    await volume.update({ 'shop.yaml': flowYaml(['a', 'b']), 'extra.yaml': flowYaml(['c']).replace('name: shop', 'name: extra') });
    await changesReach(() => changes, 2, 2_000);
    await sleep(500);
    expect(changes).toBe(2);
  });

  it('calls once for a burst of writes, and not at all for events that change no byte', async () => {
    const file = join(dir, 'shop.yaml');
    await writeFile(file, flowYaml(['a']));
    let changes = 0;
    watch = watchFlowFiles({ path: dir, loaded: await flowFilesFingerprint(dir), pollMs: 60_000, debounceMs: 200, onChange: () => (changes += 1) });
    await sleep(100);
    await utimes(file, new Date(), new Date());
    await sleep(600);
    expect(changes).toBe(0);
    for (const names of [['a', 'b'], ['a', 'b', 'c'], ['a', 'c']]) {
      await writeFile(file, flowYaml(names));
      await sleep(20);
    }
    await changesReach(() => changes, 1, 2_000);
    await sleep(500);
    expect(changes).toBe(1);
  });

  it('sees by its poll what fs.watch cannot: a flow file symlinked from another folder, changed there', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'real.yaml'), flowYaml(['a']));
    const path = join(dir, 'shop.yaml');
    await symlink(join(elsewhere, 'real.yaml'), path);
    let changes = 0;
    watch = watchFlowFiles({ path, loaded: await flowFilesFingerprint(path), pollMs: 300, onChange: () => (changes += 1) });
    await writeFile(join(elsewhere, 'real.yaml'), flowYaml(['a', 'b']));
    await changesReach(() => changes, 1, 2_000);
  });

  it('calls at once when the files changed between their fingerprint and the start of the watch (the poll far away)', async () => {
    await writeFile(join(dir, 'shop.yaml'), flowYaml(['a']));
    const loaded = await flowFilesFingerprint(dir);
    await writeFile(join(dir, 'shop.yaml'), flowYaml(['a', 'b']));
    let changes = 0;
    watch = watchFlowFiles({ path: dir, loaded, pollMs: 60_000, onChange: () => (changes += 1) });
    await changesReach(() => changes, 1, 1_000);
  });
});
