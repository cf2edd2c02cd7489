import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Express } from 'express';
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

/** An Express 5 app with `express.raw` that does one XADD (id, flow, body) per POST /webhooks/:flow and answers 202 {"id"}. */
export function expressIngest(redis: Redis, streamKey: string): Express {
  const app = express();
  app.post('/webhooks/:flow', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const id = randomUUID();
    await redis.xadd(streamKey, '*', 'id', id, 'flow', req.params.flow, 'body', req.body as Buffer);
    res.status(202).json({ id });
  });
  return app;
}
