import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request's arrival at the sink: when its headers were read, and its webhook-id. */
export interface Arrival {
  readonly at: number;
  readonly webhookId: string;
}

/** The error page a failing destination answers with: what a proxy or framework shows on a 500. */
export const ERROR_PAGE_BYTES = 8 * 1024;
const errorPage = ((): Buffer => {
  const head = '<!DOCTYPE html><html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><pre>';
  const tail = '</pre></body></html>';
  const trace = Array.from({ length: 200 }, (_, i) => `    at handler${i} (/srv/app/node_modules/framework/lib/router.js:${100 + i}:15)\n`).join('');
  return Buffer.from(`${head}${trace}`.slice(0, ERROR_PAGE_BYTES - tail.length) + tail);
})();

/**
 * The zero-latency destination: answers 200 with an empty body as soon as the request body
 * has been read. Counts requests per path; paths under /hang/ are never answered (a dead
 * destination), paths under /fail/ answer 500 with an 8 KB HTML error page (a failing one), paths
 * under /slow/<ms>/<key>/ answer the events of that key (`"key":"<key>"` in the body) after <ms>
 * (a slow key) and the rest at once. Runs in the bench's own process so that arrivals and the latency run's send
 * times are read from one clock (`performance.now()`).
 */
export interface Sink {
  readonly url: string;
  /** Requests answered (or held, for /hang/) per path since the last reset. */
  count(path: string): number;
  total(): number;
  /** Start recording arrivals per path (the latency run); off by default, it costs memory. */
  recordArrivals(on: boolean): void;
  arrivals(path: string): readonly Arrival[];
  reset(): void;
  close(): Promise<void>;
}

const SLOW_PATH = /^\/slow\/(\d+)\/([^/]+)\//;

export async function startSink(): Promise<Sink> {
  const counts = new Map<string, number>();
  const arrivals = new Map<string, Arrival[]>();
  let recording = false;
  let total = 0;
  const sockets = new Set<Socket>();

  const server: Server = createServer({ keepAliveTimeout: 60_000 }, (req: IncomingMessage, res: ServerResponse) => {
    const at = performance.now();
    const path = req.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    total++;
    if (recording) {
      let list = arrivals.get(path);
      if (!list) arrivals.set(path, (list = []));
      list.push({ at, webhookId: String(req.headers['webhook-id'] ?? '') });
    }
    if (path.startsWith('/hang/')) {
      req.resume();
      return;
    }
    const failing = path.startsWith('/fail/');
    const slow = SLOW_PATH.exec(path);
    const chunks: Buffer[] = [];
    if (slow) req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const answer = (): void => {
      if (failing) {
        res.writeHead(500, { 'content-type': 'text/html', 'content-length': String(errorPage.length) });
        res.end(errorPage);
        return;
      }
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    };
    req.on('end', () => {
      if (slow && Buffer.concat(chunks).includes(`"key":"${slow[2]}"`)) setTimeout(answer, Number(slow[1]));
      else answer();
    });
    req.resume();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    count: (path) => counts.get(path) ?? 0,
    total: () => total,
    recordArrivals: (on) => void (recording = on),
    arrivals: (path) => arrivals.get(path) ?? [],
    reset() {
      counts.clear();
      arrivals.clear();
      total = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
