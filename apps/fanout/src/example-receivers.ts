import type { Server } from 'node:http';
import type { Flow } from '@fanout/flows';
import { startExampleReceiver } from './example-receiver.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** One loopback address the flows deliver to, and the destinations that deliver there. */
interface LoopbackTarget {
  readonly host: string;
  readonly port: number;
  readonly destinations: string[];
}

export interface ExampleReceivers {
  /** `orders on 127.0.0.1:9101`, one line per receiver started. */
  readonly started: readonly string[];
  /** Addresses something else already listens on, left to it. */
  readonly taken: readonly string[];
  close(): Promise<void>;
}

/** Every loopback host:port with an explicit port that an http destination of the flows delivers to. */
function loopbackTargets(flows: readonly Flow[]): LoopbackTarget[] {
  const targets = new Map<string, LoopbackTarget>();
  for (const flow of flows) {
    for (const destination of flow.destinations) {
      if (destination.type !== 'http') continue;
      const url = new URL(destination.url);
      if (!LOOPBACK.has(url.hostname) || url.port === '') continue;
      const key = `${url.hostname}:${url.port}`;
      const target = targets.get(key) ?? { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port), destinations: [] };
      target.destinations.push(destination.name);
      targets.set(key, target);
    }
  }
  return [...targets.values()];
}

/**
 * `fanout start --dev`: a receiver answering 200 on every loopback address the flows deliver to
 * (flows/payments.yaml: 127.0.0.1:9101 and 9102), printing what it gets, so the example's
 * deliveries succeed on a fresh machine. An address already taken is left to what listens there.
 */
export async function startExampleReceivers(flows: readonly Flow[], log: (line: string) => void): Promise<ExampleReceivers> {
  const servers: Server[] = [];
  const started: string[] = [];
  const taken: string[] = [];
  for (const { host, port, destinations } of loopbackTargets(flows)) {
    const name = destinations.join(',');
    try {
      servers.push(await startExampleReceiver({ name, port, host, answer: () => 200, log }));
      started.push(`${name} on ${host}:${port}`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      taken.push(`${host}:${port}`);
    }
  }
  return {
    started,
    taken,
    async close() {
      // The workers' keep-alive connections would hold close() open.
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    },
  };
}
