import { describe, expect, it } from '@jest/globals';
import { substituteEnv } from './env.js';

describe('substituteEnv', () => {
  const env = { HOST: 'orders.example.com', TOKEN: 's3cr3t' };

  it('replaces references in strings at any depth, never in keys', () => {
    const { value, issues } = substituteEnv({ '${env:TOKEN}': ['https://${env:HOST}/a', { b: '${env:TOKEN}${env:TOKEN}' }], n: 3, t: true, z: null }, env);
    expect(value).toEqual({ '${env:TOKEN}': ['https://orders.example.com/a', { b: 's3cr3ts3cr3t' }], n: 3, t: true, z: null });
    expect(issues).toEqual([]);
  });

  it('remembers what was written where, to report templates instead of values', () => {
    const { templates } = substituteEnv({ spec: { destinations: [{ url: 'https://${env:HOST}/a', name: 'x' }] } }, env);
    expect([...templates]).toEqual([['spec.destinations[0].url', 'https://${env:HOST}/a']]);
  });

  it('reports every variable that is not set', () => {
    const { issues } = substituteEnv({ a: '${env:ONE}', b: ['${env:TWO}'] }, env);
    expect(issues).toEqual([
      { path: 'a', message: 'environment variable ONE is not set' },
      { path: 'b[0]', message: 'environment variable TWO is not set' },
    ]);
  });

  it('keeps a `__proto__` key as a plain field rather than a prototype', () => {
    const input: unknown = JSON.parse('{"__proto__": {"polluted": true}}');
    const { value } = substituteEnv(input, env);
    expect(Object.keys(value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
