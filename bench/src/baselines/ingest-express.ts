/**
 * Baseline (b) of the ingest run: an Express 5 app with `express.raw` that does one XADD and
 * answers 202 {"id"}. What the ingress's framework costs, without the ingress's own work.
 */
import { createServer } from 'node:http';
import { expressIngest, openIngestBaseline, serveIngestBaseline } from './ingest-baseline.js';

const { redis, streamKey } = await openIngestBaseline();
serveIngestBaseline(createServer(expressIngest(redis, streamKey)), redis);
