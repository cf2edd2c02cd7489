/**
 * Baseline (a) of the ingest run: a bare node:http server that reads the body, does one
 * XADD and answers 202 {"id"}. What Node and Redis allow without any framework.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { openIngestBaseline, serveIngestBaseline } from './ingest-baseline.js';

const { redis, streamKey } = await openIngestBaseline();

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
serveIngestBaseline(server, redis);
