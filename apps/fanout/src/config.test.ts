import { describe, expect, it } from '@jest/globals';
import { readClientConfig, readConfig } from './config.js';

describe('readConfig', () => {
  it('has the contract defaults', () => {
    expect(readConfig({})).toEqual({
      PORT: 8080,
      FANOUT_FLOWS: './flows',
      FANOUT_ROLES: ['ingress', 'dispatcher', 'worker', 'dashboard'],
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      FANOUT_REDIS_PREFIX: 'fanout',
      FANOUT_SHUTDOWN_GRACE: 10_000,
      FANOUT_EVENT_RETENTION: 172_800_000,
      FANOUT_INGEST_REPLICAS: 0,
      FANOUT_INGEST_REPLICA_TIMEOUT: 1_000,
      FANOUT_STREAM_RETENTION: 3_600_000,
      FANOUT_CLAIM_IDLE: 30_000,
      FANOUT_WORKER_LOCK: 30_000,
      FANOUT_STALLED_INTERVAL: 10_000,
      FANOUT_DASHBOARD_READONLY: false,
    });
  });

  it('reads roles, durations and the Redis URL', () => {
    const config = readConfig({ FANOUT_ROLES: 'worker, dispatcher', FANOUT_SHUTDOWN_GRACE: '30s', REDIS_URL: 'redis://redis:6379/2', PORT: '0' });
    expect(config.FANOUT_ROLES).toEqual(['worker', 'dispatcher']);
    expect(config.FANOUT_SHUTDOWN_GRACE).toBe(30_000);
    expect(config.REDIS_URL).toBe('redis://redis:6379/2');
    expect(config.PORT).toBe(0);
  });

  it('reads how many replicas must confirm an event, and for how long to wait', () => {
    expect(readConfig({ FANOUT_INGEST_REPLICAS: '2', FANOUT_INGEST_REPLICA_TIMEOUT: '250ms' })).toMatchObject({ FANOUT_INGEST_REPLICAS: 2, FANOUT_INGEST_REPLICA_TIMEOUT: 250 });
  });

  it('reads whether the dashboard is read-only', () => {
    expect(readConfig({ FANOUT_DASHBOARD_READONLY: 'true' }).FANOUT_DASHBOARD_READONLY).toBe(true);
    expect(() => readConfig({ FANOUT_DASHBOARD_READONLY: 'sometimes' })).toThrow('FANOUT_DASHBOARD_READONLY must be true or false, got "sometimes"');
  });

  it('treats an empty variable as unset', () => {
    expect(readConfig({ REDIS_URL: '', FANOUT_ADMIN_TOKEN: '' }).REDIS_URL).toBeUndefined();
  });

  it('gives split roles ports that do not collide, unless PORT says otherwise', () => {
    expect(readConfig({ FANOUT_ROLES: 'ingress' }).PORT).toBe(8080);
    expect(readConfig({ FANOUT_ROLES: 'dashboard' }).PORT).toBe(8081);
    expect(readConfig({ FANOUT_ROLES: 'dispatcher' }).PORT).toBe(8082);
    expect(readConfig({ FANOUT_ROLES: 'worker' }).PORT).toBe(8083);
    expect(readConfig({ FANOUT_ROLES: 'worker,dashboard' }).PORT).toBe(8081);
    expect(readConfig({ FANOUT_ROLES: 'worker', PORT: '9000' }).PORT).toBe(9000);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be a whole number from 0 to 65535, got "abc"'],
    [{ PORT: '80.5' }, 'PORT must be a whole number from 0 to 65535, got "80.5"'],
    [{ PORT: '70000' }, 'PORT must be a whole number from 0 to 65535, got "70000"'],
    [{ FANOUT_ROLES: 'ingress,mailer' }, 'FANOUT_ROLES must be a comma-separated list of ingress, dispatcher, worker, dashboard, got "ingress,mailer"'],
    [{ FANOUT_ROLES: ' , ' }, 'FANOUT_ROLES must be a comma-separated list of ingress, dispatcher, worker, dashboard, got " , "'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL must be a redis:// or rediss:// URL, got "http://localhost"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ LOG_FORMAT: 'xml' }, 'LOG_FORMAT must be json or pretty, got "xml"'],
    [{ FANOUT_REDIS_PREFIX: 'a:b' }, 'FANOUT_REDIS_PREFIX must be letters, digits, - or _, got "a:b"'],
    [{ FANOUT_SHUTDOWN_GRACE: 'soon' }, 'FANOUT_SHUTDOWN_GRACE must be a duration such as 500ms, 10s, 5m or 1h, got "soon"'],
    [{ FANOUT_INGEST_REPLICAS: '-1' }, 'FANOUT_INGEST_REPLICAS must be a whole number of 0 or more, got "-1"'],
    [{ FANOUT_INGEST_REPLICAS: 'all' }, 'FANOUT_INGEST_REPLICAS must be a whole number of 0 or more, got "all"'],
    [{ FANOUT_INGEST_REPLICA_TIMEOUT: '0s' }, 'FANOUT_INGEST_REPLICA_TIMEOUT must be a duration longer than 0, such as 500ms or 10s, got "0s"'],
  ])('refuses %p in one line of plain words', (env, message) => {
    expect(() => readConfig(env)).toThrow(message);
    try {
      readConfig(env);
    } catch (error) {
      expect((error as Error).message).toBe(message);
      expect((error as { code?: string }).code).toBe('CONFIG_INVALID');
    }
  });

  it('reads where the CLI finds a deployment', () => {
    expect(readClientConfig({})).toEqual({ FANOUT_URL: 'http://127.0.0.1:8080', FANOUT_FLOWS: './flows' });
    expect(readClientConfig({ FANOUT_URL: 'https://fanout.internal:8443', FANOUT_ADMIN_TOKEN: 't' })).toMatchObject({ FANOUT_URL: 'https://fanout.internal:8443', FANOUT_ADMIN_TOKEN: 't' });
    expect(() => readClientConfig({ FANOUT_URL: 'localhost:8080' })).toThrow('FANOUT_URL must be an http:// or https:// URL, got "localhost:8080"');
  });
});
