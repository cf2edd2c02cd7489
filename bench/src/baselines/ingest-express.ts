/**
 * Baseline (b) of the ingest run: an Express 5 app with `express.raw` that does one XADD and
 * answers 202 {"id"}. What the ingress's framework costs, without the ingress's own work.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import { announce, childOptions, onStop } from '../child.js';

interface Options {
  redisUrl: string;
  streamKey: string;
}

const { redisUrl, streamKey } = childOptions<Options>();
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
await redis.connect();

const app = express();
app.post('/webhooks/:flow', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  const id = randomUUID();
  await redis.xadd(streamKey, '*', 'id', id, 'flow', req.params.flow, 'body', req.body as Buffer);
  res.status(202).json({ id });
});
const server = app.listen(0, '127.0.0.1', () => announce({ ready: { port: (server.address() as AddressInfo).port } }));
onStop(async () => {
  server.close();
  redis.disconnect();
});
