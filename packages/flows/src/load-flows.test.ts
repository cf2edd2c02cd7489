import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowLoadError } from './errors.js';
import { loadFlows } from './load-flows.js';

function flowYaml(name: string, url = 'https://${env:HOST}/hook'): string {
  return `apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: ${name} }\nspec:\n  destinations:\n    - { name: main, type: http, url: "${url}" }\n`;
}

const ENV = { HOST: 'receiver.example.com' };
let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), 'fanout-flows-'));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

async function loadError(path: string): Promise<FlowLoadError> {
  const error = await loadFlows(path, ENV).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error instanceof FlowLoadError) return error;
  throw new Error(`expected a FlowLoadError, got ${String(error)}`);
}

describe('loadFlows', () => {
  it('loads the *.yaml and *.yml files of a folder in name order, every document of each', async () => {
    await writeFile(join(folder, 'b.yml'), `${flowYaml('refunds')}---\n${flowYaml('payouts')}`);
    await writeFile(join(folder, 'a.yaml'), flowYaml('payments'));
    await writeFile(join(folder, 'notes.txt'), 'not a flow');
    await writeFile(join(folder, '.hidden.yaml'), 'not: a flow');
    await mkdir(join(folder, 'nested.yaml'));
    const flows = await loadFlows(folder, ENV);
    expect(flows.map(({ name }) => name)).toEqual(['payments', 'refunds', 'payouts']);
    expect(flows[0]?.destinations[0]).toMatchObject({ url: 'https://receiver.example.com/hook' });
    expect(Object.isFrozen(flows)).toBe(true);
  });

  it('follows symlinked files, as a Kubernetes ConfigMap mount has them', async () => {
    await mkdir(join(folder, '..data'));
    await writeFile(join(folder, '..data', 'payments.yaml'), flowYaml('payments'));
    await symlink(join(folder, '..data', 'payments.yaml'), join(folder, 'payments.yaml'));
    expect((await loadFlows(folder, ENV)).map(({ name }) => name)).toEqual(['payments']);
  });

  it('loads a single file whatever its name', async () => {
    const file = join(folder, 'flows.conf');
    await writeFile(file, flowYaml('payments'));
    expect((await loadFlows(file, ENV)).map(({ name }) => name)).toEqual(['payments']);
  });

  it('refuses a flow name defined in two files, naming both', async () => {
    await writeFile(join(folder, 'a.yaml'), flowYaml('payments'));
    await writeFile(join(folder, 'b.yaml'), `${flowYaml('refunds')}---\n${flowYaml('payments')}`);
    const error = await loadError(folder);
    expect(error.message).toBe(`${join(folder, 'b.yaml')} document 2: metadata.name: flow "payments" is already defined in ${join(folder, 'a.yaml')} document 1`);
  });

  it('names the file of an invalid document', async () => {
    await writeFile(join(folder, 'a.yaml'), flowYaml('payments'));
    await writeFile(join(folder, 'b.yaml'), flowYaml('refunds', 'ftp://x'));
    const error = await loadError(folder);
    expect(error).toMatchObject({ file: join(folder, 'b.yaml'), document: 1, path: 'spec.destinations[0].url' });
  });

  it('refuses a path that does not exist', async () => {
    const missing = join(folder, 'nope');
    const error = await loadError(missing);
    expect(error.message).toBe(`${missing}: no such file or folder`);
    expect(error).toMatchObject({ code: 'FLOW_INVALID', file: missing, document: undefined, path: '' });
  });

  it('refuses a folder without flow files', async () => {
    await writeFile(join(folder, 'readme.md'), '# flows');
    expect((await loadError(folder)).message).toBe(`${folder}: has no *.yaml or *.yml files`);
  });

  it('refuses files that hold no documents at all', async () => {
    await writeFile(join(folder, 'empty.yaml'), '# to do\n');
    expect((await loadError(folder)).message).toBe(`${folder}: no DeliveryFlow documents found`);
  });
});
