/**
 * Baseline (a) of the ingest run: a bare node:http server that reads the body, does one
 * XADD and answers 202 {"id"}. What Node and Redis allow without any framework.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { announce, childOptions, onStop } from '../child.js';

interface Options {
  redisUrl: string;
  streamKey: string;
}

const { redisUrl, streamKey } = childOptions<Options>();
const redis = new Redis(redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
await redis.connect();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const id = randomUUID();
    redis.xadd(streamKey, '*', 'id', id, 'flow', req.url ?? '', 'body', Buffer.concat(chunks)).then(
      () => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id }));
      },
      () => {
        res.writeHead(503);
        res.end();
      },
    );
  });
});
server.listen(0, '127.0.0.1', () => announce({ ready: { port: (server.address() as AddressInfo).port } }));
onStop(async () => {
  server.close();
  redis.disconnect();
});
