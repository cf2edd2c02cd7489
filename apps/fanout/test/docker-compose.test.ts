import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadFlows } from '@fanout/flows';
import { parse } from 'yaml';
import { ROLES } from '../src/config.js';

// No Docker engine runs here, so this checks what can be checked without one: the compose
// file parses, every role is a real one, and every command points at a file the build makes.
const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    { image?: string; build?: string; pull_policy?: string; command?: string[]; entrypoint?: string[]; environment?: Record<string, string>; volumes?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }> }
  >;
};
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const fanoutServices = Object.entries(compose.services).filter(([, service]) => service.image === 'fanout:local');

/** Where a `dist/x.js` path inside the image comes from in the repository. */
function sourceOf(distPath: string): URL {
  return new URL(distPath.replace('/dist/', '/src/').replace(/\.js$/, '.ts'), root);
}

describe('docker-compose.yml', () => {
  it('runs Redis with AOF on and noeviction', () => {
    const command = compose.services['redis']?.command?.join(' ') ?? '';
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  it('runs each role in its own service, from one image built once', () => {
    const roles = Object.values(compose.services).flatMap((service) => (service.command?.[0] === 'start' ? service.command.slice(1) : []));
    expect(roles.sort()).toEqual([...ROLES].sort());
    expect(new Set(Object.values(compose.services).filter((service) => service.image?.startsWith('fanout')).map((service) => service.image))).toEqual(new Set(['fanout:local']));
    const building = fanoutServices.filter(([, service]) => service.build !== undefined).map(([name]) => name);
    expect(building).toEqual(['ingress']);
    for (const [name, service] of fanoutServices) if (name !== 'ingress') expect({ name, pull: service.pull_policy }).toEqual({ name, pull: 'never' });
  });

  it('binds the dashboard to loopback, and gives every role the port its healthcheck asks', () => {
    expect(compose.services['dashboard']?.ports).toEqual(['127.0.0.1:8081:8080']);
    for (const [name, service] of fanoutServices) if (service.command?.[0] === 'start') expect({ name, port: service.environment?.['PORT'] }).toEqual({ name, port: '8080' });
  });

  it('points every entrypoint at a file the build produces', () => {
    const entrypoints = [JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[], ...Object.values(compose.services).flatMap((service) => (service.entrypoint ? [service.entrypoint] : []))];
    expect(entrypoints.length).toBeGreaterThan(1);
    for (const [program, script] of entrypoints) {
      expect(program).toBe('node');
      expect(existsSync(sourceOf(script!))).toBe(true);
    }
  });

  const exampleFlows = () => {
    const mount = compose.services['ingress']?.volumes?.[0] ?? '';
    const [hostPath] = mount.split(':');
    return loadFlows(new URL(hostPath!.replace(/^\.\//, ''), root).pathname, {});
  };

  it('mounts an example flow that loads', async () => {
    expect((await exampleFlows()).map((flow) => flow.name)).toEqual(['payments']);
  });

  it("runs MinIO, creates the archive destination's bucket before the workers start, and gives them its keys", async () => {
    const archive = (await exampleFlows())[0]!.destinations.find((destination) => destination.type === 's3');
    expect(archive).toMatchObject({ type: 's3', endpoint: 'http://minio:9000' });
    expect(compose.services['minio']?.image).toBe('minio/minio');
    const setup = compose.services['minio-setup'];
    expect(setup?.command).toEqual(['mb', '--ignore-existing', `local/${archive?.type === 's3' ? archive.bucket : ''}`]);
    expect(setup?.environment?.['MC_HOST_local']).toContain('@minio:9000');
    const worker = compose.services['worker'];
    expect(worker?.depends_on?.['minio-setup']).toEqual({ condition: 'service_completed_successfully' });
    expect(Object.keys(worker?.environment ?? {})).toEqual(expect.arrayContaining(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']));
  });

  it('builds a runtime image without the test tooling', () => {
    // The last stage copies the runtime stage, whose node_modules is a fresh production install of the service.
    const stages = dockerfile.split(/^FROM /m).slice(1);
    expect(stages.at(-1)).toMatch(/^COPY --from=runtime \/app \/app$/m);
    expect(stages.at(-1)).not.toMatch(/--from=build/);
    const install = /^RUN npm ci --omit=dev --ignore-scripts --workspace (\S+)(.*)$/m.exec(stages.find((stage) => stage.includes(' AS runtime'))!)!;
    const removed = [...install[2]!.matchAll(/rm -rf node_modules\/(\S+)/g)].map((match) => match[1]);
    // What that install puts in node_modules, read off the lockfile.
    const tree = execFileSync('npm', ['ls', '--package-lock-only', '--omit=dev', '--workspace', install[1]!, '--all', '--parseable'], { cwd: new URL('.', root), encoding: 'utf8' });
    const packages = new Set(tree.split('\n').map((path) => path.split('/node_modules/').at(-1)!).filter((name) => !removed.includes(name)));
    expect(packages.has('bullmq')).toBe(true);
    for (const tooling of ['testcontainers', 'ssh2', 'typescript', 'playwright-core', 'jest', 'ts-jest', '@fanout/testkit', 'fast-check']) expect({ tooling, shipped: packages.has(tooling) }).toEqual({ tooling, shipped: false });
  });
});
