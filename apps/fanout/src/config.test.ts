import { describe, expect, it } from '@jest/globals';
import { readClientConfig, readConfig } from './config.js';

describe('readConfig', () => {
  it('has the contract defaults', () => {
    expect(readConfig({})).toEqual({
      PORT: 8080,
      FANOUT_FLOWS: './flows',
      FANOUT_FLOWS_WATCH: true,
      FANOUT_FLOWS_POLL: 2_000,
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
      FANOUT_INGEST_MEMORY_LIMIT: 0.9,
      FANOUT_DESTINATION_DENY: ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128', '100.100.100.200/32', '168.63.129.16/32'],
      FANOUT_DESTINATION_ALLOW: [],
      FANOUT_INGRESS_MAX_BUFFERED: 67_108_864,
      FANOUT_BODY_TIMEOUT: 10_000,
      FANOUT_HEADERS_TIMEOUT: 10_000,
      FANOUT_REQUEST_TIMEOUT: 30_000,
      FANOUT_MAX_CONNECTIONS: 4_096,
    });
  });

  it('reads the network guard\'s lists, separated by commas or spaces, and none for an empty one', () => {
    expect(readConfig({ FANOUT_DESTINATION_DENY: '169.254.0.0/16, 10.0.0.0/8 fc00::/7', FANOUT_DESTINATION_ALLOW: '10.1.0.0/16' })).toMatchObject({
      FANOUT_DESTINATION_DENY: ['169.254.0.0/16', '10.0.0.0/8', 'fc00::/7'],
      FANOUT_DESTINATION_ALLOW: ['10.1.0.0/16'],
    });
    expect(readConfig({ FANOUT_DESTINATION_DENY: 'none' }).FANOUT_DESTINATION_DENY).toEqual([]);
  });

  it('reads the ingress limits and the metrics token', () => {
    expect(readConfig({ FANOUT_INGRESS_MAX_BUFFERED: '16mb', FANOUT_BODY_TIMEOUT: '5s', FANOUT_MAX_CONNECTIONS: '100', FANOUT_METRICS_TOKEN: 'scrape' })).toMatchObject({
      FANOUT_INGRESS_MAX_BUFFERED: 16_777_216,
      FANOUT_BODY_TIMEOUT: 5_000,
      FANOUT_MAX_CONNECTIONS: 100,
      FANOUT_METRICS_TOKEN: 'scrape',
    });
    expect(readConfig({ FANOUT_INGRESS_MAX_BUFFERED: '1048576' }).FANOUT_INGRESS_MAX_BUFFERED).toBe(1_048_576);
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

  it('reads the ingress memory limit as a share of maxmemory', () => {
    expect(readConfig({ FANOUT_INGEST_MEMORY_LIMIT: '75%' }).FANOUT_INGEST_MEMORY_LIMIT).toBe(0.75);
    expect(readConfig({ FANOUT_INGEST_MEMORY_LIMIT: '100' }).FANOUT_INGEST_MEMORY_LIMIT).toBe(1);
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
    [{ FANOUT_INGEST_MEMORY_LIMIT: '120%' }, 'FANOUT_INGEST_MEMORY_LIMIT must be a percentage above 0% and at most 100%, such as 90%, got "120%"'],
    [{ FANOUT_INGEST_MEMORY_LIMIT: 'most' }, 'FANOUT_INGEST_MEMORY_LIMIT must be a percentage above 0% and at most 100%, such as 90%, got "most"'],
    [
      { FANOUT_DESTINATION_DENY: '169.254.0.0/16, metadata.google.internal' },
      'FANOUT_DESTINATION_DENY must be CIDR ranges separated by commas, or none ("metadata.google.internal" is not an IP address or CIDR range), got "169.254.0.0/16, metadata.google.internal"',
    ],
    [{ FANOUT_DESTINATION_ALLOW: '10.0.0.0/33' }, 'FANOUT_DESTINATION_ALLOW must be CIDR ranges separated by commas, or none ("10.0.0.0/33" is not an IP address or CIDR range), got "10.0.0.0/33"'],
    [{ FANOUT_INGRESS_MAX_BUFFERED: 'lots' }, 'FANOUT_INGRESS_MAX_BUFFERED must be a size larger than 0 such as 512kb or 64mb, got "lots"'],
    [{ FANOUT_INGRESS_MAX_BUFFERED: '0' }, 'FANOUT_INGRESS_MAX_BUFFERED must be a size larger than 0 such as 512kb or 64mb, got "0"'],
    [{ FANOUT_MAX_CONNECTIONS: '0' }, 'FANOUT_MAX_CONNECTIONS must be a whole number of 1 or more, got "0"'],
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
