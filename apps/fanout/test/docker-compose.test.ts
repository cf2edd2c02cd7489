import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { loadFlows } from '@fanout/flows';
import { parse } from 'yaml';
import { ROLES } from '../src/config.js';

// No Docker engine runs here, so this checks what can be checked without one: the compose
// file parses, every role is a real one, and every command points at a file the build makes.
const root = new URL('../../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: string; command?: string[]; entrypoint?: string[]; environment?: Record<string, string>; volumes?: string[] }>;
};

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

  it('runs each role in its own service, from one image', () => {
    const roles = Object.values(compose.services).flatMap((service) => (service.environment?.['FANOUT_ROLES'] ? [service.environment['FANOUT_ROLES']] : []));
    expect(roles.sort()).toEqual([...ROLES].sort());
    const images = new Set(Object.values(compose.services).filter((service) => service.image?.startsWith('fanout')).map((service) => service.image));
    expect(images).toEqual(new Set(['fanout:local']));
  });

  it('points every entrypoint at a file the build produces', () => {
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    const entrypoints = [JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)![1]!) as string[], ...Object.values(compose.services).flatMap((service) => (service.entrypoint ? [service.entrypoint] : []))];
    expect(entrypoints.length).toBeGreaterThan(1);
    for (const [program, script] of entrypoints) {
      expect(program).toBe('node');
      expect(existsSync(sourceOf(script!))).toBe(true);
    }
  });

  it('mounts an example flow that loads', async () => {
    const mount = compose.services['ingress']?.volumes?.[0] ?? '';
    const [hostPath] = mount.split(':');
    const flows = await loadFlows(new URL(hostPath!.replace(/^\.\//, ''), root).pathname, {});
    expect(flows.map((flow) => flow.name)).toEqual(['payments']);
  });
});
