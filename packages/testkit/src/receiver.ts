import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Unix ms when the request's body was complete. */
  readonly receivedAt: number;
  /** 1 for the first request on this path, 2 for the second… */
  readonly nth: number;
}

/** How to answer one request: a status (with headers and a delay), or `hang` to never answer. */
export type ScriptedReply = { status: number; headers?: Record<string, string>; delayMs?: number; body?: string } | 'hang';
export type ReplyScript = (request: ReceivedRequest) => ScriptedReply;

export interface ScriptedReceiver {
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Requests to one path. */
  requestsTo(path: string): ReceivedRequest[];
  /** Answers requests to `path` by `script` (default for unscripted paths: 200). */
  script(path: string, script: ReplyScript): void;
  /** Resolves once `count` requests to `path` arrived, rejects after `timeoutMs`. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** Ready-made scripts for the answers destinations give. */
export const replies = {
  ok: (): ReplyScript => () => ({ status: 200 }),
  status: (status: number, headers?: Record<string, string>): ReplyScript => () => ({ status, ...(headers ? { headers } : {}) }),
  hang: (): ReplyScript => () => 'hang',
  /** Fails the first `failures` requests with `status`, then answers 200. */
  failFirst: (failures: number, status = 500, headers?: Record<string, string>): ReplyScript => (request) =>
    request.nth <= failures ? { status, ...(headers ? { headers } : {}) } : { status: 200 },
};

/** An HTTP server on loopback that records every request and answers as scripted. */
export async function startReceiver(): Promise<ScriptedReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripts = new Map<string, ReplyScript>();
  const counts = new Map<string, number>();
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const nth = (counts.get(path) ?? 0) + 1;
      counts.set(path, nth);
      const request: ReceivedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: Buffer.concat(chunks), receivedAt: Date.now(), nth };
      requests.push(request);
      for (const wake of waiters) wake();
      const reply = (scripts.get(path) ?? replies.ok())(request);
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      const answer = (): void => {
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body ?? '');
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const requestsTo = (path: string): ReceivedRequest[] => requests.filter((request) => request.path === path);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo,
    script: (path, script) => void scripts.set(path, script),
    waitFor: (path, count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = requestsTo(path);
          if (found.length < count) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`waited ${timeoutMs} ms for ${count} requests to ${path}, got ${requestsTo(path).length}`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
