import { describe, expect, it } from '@jest/globals';
import { createNetworkGuard } from '../network-guard.js';
import { guardedConnectionOptions } from './connection-options.js';

describe('guardedConnectionOptions', () => {
  // localhost resolves to 127.0.0.1, and on some hosts to ::1 as well: kept out, for one answer everywhere.
  const guard = createNetworkGuard({ deny: ['::1/128'] });

  it('gives the client the addresses the guard allowed, with the credentials, and no gossiped servers', async () => {
    expect(await guardedConnectionOptions('nats://fanout:p%40ss@localhost:4222', guard)).toEqual({
      servers: ['127.0.0.1:4222'],
      user: 'fanout',
      pass: 'p@ss',
      ignoreClusterUpdates: true,
      maxReconnectAttempts: 20,
      reconnectTimeWait: 500,
    });
  });

  it('brackets an IPv6 address, and leaves the port to the client when none is written', async () => {
    expect(await guardedConnectionOptions('nats://[fd00::7]:4223', guard)).toMatchObject({ servers: ['[fd00::7]:4223'] });
    expect(await guardedConnectionOptions('nats://s3cr3t-token@10.0.0.7', guard)).toMatchObject({ servers: ['10.0.0.7'], token: 's3cr3t-token' });
  });

  it("keeps a tls:// URL's name for the certificate check", async () => {
    expect(await guardedConnectionOptions('tls://localhost:4222', guard)).toMatchObject({ servers: ['127.0.0.1:4222'], tls: { servername: 'localhost' } });
  });

  it.each(['tls://10.0.0.7:4222', 'tls://[fd00::7]:4222', 'nats://localhost:4222'])('sets no certificate name for %s', async (url) => {
    expect(await guardedConnectionOptions(url, guard)).not.toHaveProperty('tls');
  });

  it('refuses a server whose every address is denied', async () => {
    await expect(guardedConnectionOptions('nats://localhost:4222', createNetworkGuard({ deny: ['127.0.0.0/8', '::1/128'] }))).rejects.toThrow(/^destination address (127\.0\.0\.1|::1) is denied$/);
  });
});
