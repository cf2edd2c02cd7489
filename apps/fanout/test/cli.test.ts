import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { findFreePort } from '@fanout/redis-server';
import { ADMIN_TOKEN, eventually, startRunningFanout, type RunningFanout } from './running-fanout.js';
import { FANOUT_BIN, runCli } from './run-cli.js';

// Every step spawns the command, as a user runs it: each takes a few tenths of a second.
jest.setTimeout(60_000);

const root = new URL('../../../', import.meta.url);
const COMMANDS = ['start', 'validate', 'send', 'events', 'dead-letters', 'status'];

describe('fanout, the command', () => {
  it('answers --help with every command, the environment and the exit codes', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const command of COMMANDS) expect(stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(stdout).toContain('FANOUT_URL');
    expect(stdout).toMatch(/^ {2}4 {2}the admin token is missing or wrong$/m);
  });

  it.each(COMMANDS)('answers %s --help', async (command) => {
    const { code, stdout } = await runCli([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: fanout ${command} `));
  });

  it('prints its version, also through npx after npm ci', async () => {
    const direct = await runCli(['--version']);
    expect(direct).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    const npx = await runCli(['--version'], { HOME: process.env['HOME'] ?? '/root' }, ['npx', '--prefix', new URL('.', root).pathname, 'fanout']);
    expect(npx.stdout).toBe('0.1.0\n');
    expect(npx.code).toBe(0);
  });

  it('exits 2 on a command line it does not understand', async () => {
    for (const args of [['stats'], ['status', '--verbose'], ['send'], ['dead-letters', 'shop', 'gone', '--limit', '0'], []]) {
      const { code, stderr } = await runCli(args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).not.toBe('');
    }
    expect((await runCli(['stats'])).stderr).toContain('(Did you mean status?)');
  });

  it(`is ${FANOUT_BIN}, executable`, async () => {
    const { code, stdout } = await runCli(['--version'], {}, [FANOUT_BIN]);
    expect({ code, stdout }).toEqual({ code: 0, stdout: '0.1.0\n' });
  });
});

describe('fanout validate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fanout-validate-'));
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: bad }\nspec:\n  destinations:\n    - { name: a, type: http, url: "http://127.0.0.1:9/a", timout: 5s }\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exits 0 for the example flows, and for a Kubernetes resource as it is, without Redis', async () => {
    const local = await runCli(['validate', new URL('flows', root).pathname]);
    expect(local.code).toBe(0);
    expect(local.stdout).toContain('1 flow, valid\n  payments: orders (http), analytics (http)');
    const kubernetes = await runCli(['validate', new URL('deploy/kubernetes/flows/payments.yaml', root).pathname]);
    expect(kubernetes.code).toBe(0);
  });

  it('reads FANOUT_FLOWS when given no path', async () => {
    const { code, stdout } = await runCli(['validate'], { FANOUT_FLOWS: new URL('deploy/flows', root).pathname });
    expect(code).toBe(0);
    expect(stdout).toContain('payments');
  });

  it('exits 1 with the load error, in one line', async () => {
    const { code, stdout, stderr } = await runCli(['validate', join(dir, 'bad.yaml')]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(`fanout: ${join(dir, 'bad.yaml')} document 1: spec.destinations[0].timout: unknown field; did you mean timeout?\n`);
  });

  it('says it in JSON with --json', async () => {
    const bad = await runCli(['validate', join(dir, 'bad.yaml'), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ valid: false, error: { code: 'FLOW_INVALID', message: expect.stringContaining('timout'), file: join(dir, 'bad.yaml'), document: 1, path: 'spec.destinations[0].timout' } });
    const good = await runCli(['validate', new URL('flows/payments.yaml', root).pathname, '--json']);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, flows: [{ name: 'payments', destinations: ['orders', 'analytics'] }] });
  });
});

describe('the commands that talk to a deployment', () => {
  let fanout: RunningFanout;
  let env: Record<string, string>;
  const ids: string[] = [];

  beforeAll(async () => {
    fanout = await startRunningFanout();
    env = { FANOUT_URL: fanout.base, FANOUT_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(() => fanout.close());

  const settled = async (id: string): Promise<void> => {
    await eventually(
      async () => JSON.parse((await runCli(['events', id, '--json'], env)).stdout) as { deliveries: { status: string }[] },
      (event) => event.deliveries.length === 2 && event.deliveries.every((delivery) => ['delivered', 'dead', 'filtered'].includes(delivery.status)),
    );
  };

  it('send posts a webhook and prints its id', async () => {
    const { code, stdout } = await runCli(['send', 'shop', '--data', '{"type":"payment.succeeded","n":1}'], env);
    expect(code).toBe(0);
    const [id] = /^(\S+) accepted by flow shop$/m.exec(stdout)!.slice(1);
    ids.push(id!);
    const json = await runCli(['send', 'shop', '--data', '{"type":"payment.failed"}', '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual({ id: expect.any(String), status: 202, replayed: false });
    ids.push((JSON.parse(json.stdout) as { id: string }).id);
  });

  it('send reads a body from a file, with the headers given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fanout-send-'));
    await writeFile(join(dir, 'event.txt'), 'type=payment.succeeded');
    const { code } = await runCli(['send', 'shop', '--file', join(dir, 'event.txt'), '-H', 'Content-Type: text/plain', '--header', 'X-Trace: 1'], env);
    await rm(dir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('send refuses what it cannot send, with the exit code for it', async () => {
    expect(await runCli(['send', 'nope', '--data', '{}'], env)).toMatchObject({ code: 1, stderr: 'fanout: no flow named "nope" is loaded (FLOW_NOT_FOUND)\n' });
    expect(await runCli(['send', 'shop', '--data', '{not json'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--data must be JSON') });
    expect((await runCli(['send', 'shop', '--data', '{}', '--file', 'x'], env)).code).toBe(2);
    expect(await runCli(['send', 'shop', '--header', 'no-colon'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('--header takes "Name: value"') });
  });

  it('events shows where each delivery stands, and every attempt with --attempts', async () => {
    await settled(ids[0]!);
    const { code, stdout } = await runCli(['events', ids[0]!], env);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^event ${ids[0]}  flow shop  received \\d{4}-`));
    expect(stdout).toMatch(/^DESTINATION +STATUS +ATTEMPTS +DELIVERED AT +LAST ERROR$/m);
    expect(stdout).toMatch(/^ok +delivered +1 +\d{4}-\S+$/m);
    expect(stdout).toMatch(/^gone +dead +1 +HTTP 410/m);
    const withAttempts = await runCli(['events', ids[0]!, '--attempts'], env);
    expect(withAttempts.stdout).toMatch(/^gone:\n {2}# +AT +MS +OUTCOME +STATUS +ERROR\n {2}1 +\S+ +\d+ +dead +410 +HTTP 410/m);
    await settled(ids[1]!);
    expect((await runCli(['events', ids[1]!], env)).stdout).toMatch(/^ok +filtered +0$/m);
  });

  it('events answers 1 for an unknown event, 4 without the right token, 3 where nothing answers', async () => {
    expect(await runCli(['events', 'no-such-event'], env)).toMatchObject({ code: 1, stderr: 'fanout: no event with id "no-such-event" (EVENT_NOT_FOUND)\n' });
    expect(await runCli(['events', ids[0]!], { FANOUT_URL: fanout.base })).toMatchObject({ code: 4, stderr: expect.stringContaining('set FANOUT_ADMIN_TOKEN') });
    expect(await runCli(['events', ids[0]!], { ...env, FANOUT_ADMIN_TOKEN: 'wrong' })).toMatchObject({ code: 4, stderr: expect.stringContaining('the admin token is wrong') });
    const port = await findFreePort();
    expect(await runCli(['events', ids[0]!], { ...env, FANOUT_URL: `http://127.0.0.1:${port}` })).toMatchObject({ code: 3, stderr: expect.stringContaining(`cannot reach fanout at http://127.0.0.1:${port}`) });
    expect(await runCli(['events', ids[0]!], { ...env, FANOUT_URL: 'localhost:8080' })).toMatchObject({ code: 1, stderr: 'fanout: FANOUT_URL must be an http:// or https:// URL, got "localhost:8080"\n' });
  });

  it("status shows every destination's queue", async () => {
    await settled(ids[1]!);
    const { code, stdout } = await runCli(['status'], env);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^FLOW +DESTINATION +WAITING +ACTIVE +DELAYED +FAILED\nshop +ok +0 +0 +0 +0\nshop +gone +0 +0 +0 +\d+\n$/);
    const json = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { destinations: { destination: string; failed: number }[] };
    expect(json.destinations.map((destination) => destination.destination)).toEqual(['ok', 'gone']);
    expect(json.destinations[1]!.failed).toBeGreaterThanOrEqual(2);
  });

  describe('dead-letters', () => {
    const failed = async (): Promise<number> => (JSON.parse((await runCli(['status', '--json'], env)).stdout) as { destinations: { failed: number }[] }).destinations[1]!.failed;

    it('lists a page of dead letters', async () => {
      const { code, stdout } = await runCli(['dead-letters', 'shop', 'gone', '--limit', '1'], env);
      expect(code).toBe(0);
      expect(stdout).toMatch(/^EVENT ID +FAILED AT +ATTEMPTS +REASON\n\S+ +\S+ +1 +HTTP 410.*\n1 of \d+ dead letters of shop\/gone \(--offset 1 for the next page\)\n$/);
      expect(JSON.parse((await runCli(['dead-letters', 'shop', 'gone', '--json'], env)).stdout)).toMatchObject({ total: await failed(), offset: 0, nextOffset: null });
      expect(await runCli(['dead-letters', 'shop', 'nope'], env)).toMatchObject({ code: 1, stderr: 'fanout: flow "shop" has no destination named "nope" (DESTINATION_NOT_FOUND)\n' });
    });

    it('says what a replay would do with --dry-run, and replays nothing', async () => {
      const before = await failed();
      const all = await runCli(['dead-letters', 'shop', 'gone', '--replay', '--dry-run'], env);
      expect(all.code).toBe(0);
      expect(all.stdout).toContain(`would replay ${before} dead letters of shop/gone`);
      expect(all.stdout).toContain('dry run: nothing was replayed');
      const some = await runCli(['dead-letters', 'shop', 'gone', '--replay', '--dry-run', '--ids', `${ids[0]},missing`, '--json'], env);
      expect(some.code).toBe(1);
      expect(JSON.parse(some.stdout)).toMatchObject({ dryRun: true, matched: 1, deadLetters: [{ eventId: ids[0] }], notFound: ['missing'] });
      expect(await failed()).toBe(before);
      expect(fanout.receiver.requestsTo('/gone').length).toBe(before);
    });

    it('replays the ids given, or every dead letter, with the same webhook-id', async () => {
      const before = await failed();
      const one = await runCli(['dead-letters', 'shop', 'gone', '--replay', '--ids', `${ids[0]},missing`], env);
      expect(one.code).toBe(1);
      expect(one.stdout).toBe('replayed 1 dead letter of shop/gone: queued again with the same webhook-id\nnot dead letters of shop/gone: missing\n');
      const again = await fanout.receiver.waitFor('/gone', before + 1);
      expect(again.at(-1)!.headers['webhook-id']).toBe(ids[0]);
      await eventually(failed, (count) => count === before);

      const all = await runCli(['dead-letters', 'shop', 'gone', '--replay', '--json'], env);
      expect(all.code).toBe(0);
      expect(JSON.parse(all.stdout)).toEqual({ queued: before, notFound: [] });
      await fanout.receiver.waitFor('/gone', 2 * before + 1);
    });

    it('shows a replay progressing on a terminal', async () => {
      // script(1) gives the command a terminal; what it printed comes back on its stdout.
      const shell = `FANOUT_URL=${fanout.base} FANOUT_ADMIN_TOKEN=${ADMIN_TOKEN} ${process.execPath} ${FANOUT_BIN} dead-letters shop gone --replay --dry-run`;
      const { code, stdout } = await runCli(['-qec', shell, '/dev/null'], {}, ['script']);
      expect(code).toBe(0);
      const clearedLines = stdout.split('\r\x1b[2K').slice(1);
      expect(clearedLines.some((line) => /^listing dead letters: \d+\/\d+/.test(line))).toBe(true);
      expect(stdout).toContain('would replay');
    });

    it('refuses --ids and --dry-run without --replay', async () => {
      expect(await runCli(['dead-letters', 'shop', 'gone', '--dry-run'], env)).toMatchObject({ code: 2, stderr: 'fanout: --ids and --dry-run go with --replay\n' });
    });
  });
});
