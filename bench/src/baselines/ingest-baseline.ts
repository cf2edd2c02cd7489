import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { announce, childOptions, onStop } from '../child.js';

interface Options {
  redisUrl: string;
  streamKey: string;
}

/** What both ingest baselines start from: the stream to XADD to, on a connection that fails fast like the ingress's. */
export async function openIngestBaseline(): Promise<{ redis: Redis; streamKey: string }> {
  const { redisUrl, streamKey } = childOptions<Options>();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  await redis.connect();
  return { redis, streamKey };
}

/** Announces the server's port once it listens, and closes it and the connection on stop. */
export function serveIngestBaseline(server: Server, redis: Redis): void {
  server.listen(0, '127.0.0.1', () => announce({ ready: { port: (server.address() as AddressInfo).port } }));
  onStop(async () => {
    server.close();
    redis.disconnect();
  });
}
