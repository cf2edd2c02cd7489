import { request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Flow } from '@fanout/flows';
import { notFoundHandler } from '@fanout/http';
import { createLogger, createMetrics, type FanoutMetrics } from '@fanout/observability';
import type { FanoutKeys } from '@fanout/redis';
import express from 'express';
import type { Redis } from 'ioredis';
import { buildIngress, type IngressDeps } from '../src/index.js';

export interface TestIngress {
  readonly port: number;
  readonly metrics: FanoutMetrics;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestIngressOptions {
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  readonly flows: readonly Flow[];
  readonly isDraining?: () => boolean;
  readonly now?: () => number;
  readonly replicas?: number;
  readonly replicaTimeoutMs?: number;
  readonly memory?: IngressDeps['memory'];
  readonly maxBufferedBytes?: number;
  readonly bodyTimeoutMs?: number;
}

/** The ingress router in an app of its own, as the main process mounts it, on a loopback port. */
export async function startIngress({ redis, keys, flows, isDraining = () => false, now, replicas, replicaTimeoutMs, memory, maxBufferedBytes, bodyTimeoutMs }: TestIngressOptions): Promise<TestIngress> {
  const metrics = createMetrics();
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const deps: IngressDeps = {
    findFlow: (name) => flows.find((flow) => flow.name === name),
    redis,
    keys,
    metrics,
    logger: createLogger({ level: 'debug', destination: sink }),
    eventRecordTtlMs: 60_000,
    isDraining,
    ...(now ? { now } : {}),
    ...(replicas !== undefined && { replicas }),
    ...(replicaTimeoutMs !== undefined && { replicaTimeoutMs }),
    ...(memory !== undefined && { memory }),
    ...(maxBufferedBytes !== undefined && { maxBufferedBytes }),
    ...(bodyTimeoutMs !== undefined && { bodyTimeoutMs }),
  };
  const app = express();
  app.use(buildIngress(deps));
  app.use(notFoundHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    metrics,
    logs,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The JSON body. */
  json<T>(): T;
}

export interface PostOptions {
  readonly headers?: Record<string, string>;
  /** Written in this order; without a content-length header the request is sent chunked. */
  readonly chunks?: readonly Buffer[];
  /** Default true. False leaves the request unfinished: only what `chunks` holds is sent. */
  readonly end?: boolean;
}

/**
 * One POST over its own connection (no agent, so nothing outlives the test), resolved when
 * the whole answer arrived, even if the request body was never finished.
 */
export function post(port: number, path: string, { headers = {}, chunks = [], end = true }: PostOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false, timeout: 10_000 }, (res) => {
      const body: Buffer[] = [];
      res.on('data', (chunk: Buffer) => body.push(chunk));
      res.on('end', () => {
        req.destroy();
        const bytes = Buffer.concat(body);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: bytes, json: <T>() => JSON.parse(bytes.toString()) as T });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to POST ${path} within 10 s`)));
    req.on('error', reject);
    // Sends the headers even when no body follows, as a client announcing a large upload does.
    req.flushHeaders();
    for (const chunk of chunks) req.write(chunk);
    if (end) req.end();
  });
}

/** Polls `condition` until it holds, failing after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
