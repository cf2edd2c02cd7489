import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** A TCP proxy on loopback in front of a server, whose connections a test can cut. */
export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Connections through it now. */
  readonly open: number;
  /** Connections it has taken in since it started. */
  readonly accepted: number;
  /** Resets every connection through it (both sides), as a broker restart or a network cut would; new ones are taken as before. */
  dropConnections(): void;
  /**
   * From now on, what the server sends on the connections open now is dropped: requests still
   * reach it, their replies never reach the client (a server killed after its work, before its
   * answer got out). Connections made later are forwarded as before.
   */
  swallowReplies(): void;
  /** Holds what clients send on the connections open now (it waits in the proxy) until the returned function is called. */
  holdRequests(): () => void;
  close(): Promise<void>;
}

/**
 * Forwards 127.0.0.1:<port> to `target` ("host:port"). Cutting its connections drops what a
 * client holds to one server without touching anyone else's (a `rabbitmqctl
 * close_all_connections` would close every client of a shared broker).
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host = '127.0.0.1', port = ''] = target.split(/:(?=\d+$)/);
  const pairs = new Set<[Socket, Socket]>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted += 1;
    const upstream = connect(Number(port), host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropConnections = (): void => {
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
  };
  return {
    port: (server.address() as AddressInfo).port,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    dropConnections,
    holdRequests() {
      const held = [...pairs];
      for (const [client, upstream] of held) client.unpipe(upstream);
      return () => {
        for (const [client, upstream] of held) client.pipe(upstream);
      };
    },
    swallowReplies() {
      for (const [client, upstream] of pairs) {
        upstream.unpipe(client);
        upstream.on('data', () => {});
      }
    },
    async close() {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
