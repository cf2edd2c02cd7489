/**
 * Baseline (b) of the ingest run: an Express 5 app with `express.raw` that does one XADD and
 * answers 202 {"id"}. What the ingress's framework costs, without the ingress's own work.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import express from 'express';
import { openIngestBaseline, serveIngestBaseline } from './ingest-baseline.js';

const { redis, streamKey } = await openIngestBaseline();

const app = express();
app.post('/webhooks/:flow', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
  const id = randomUUID();
  await redis.xadd(streamKey, '*', 'id', id, 'flow', req.params.flow, 'body', req.body as Buffer);
  res.status(202).json({ id });
});
serveIngestBaseline(createServer(app), redis);
