import type { Agent } from 'node:http';
import type { Socket } from 'node:net';
import type { NetworkGuard } from './network-guard.js';

/**
 * A node:http(s) Agent (the AWS SDK's NodeHttpHandler sends through one) with the network
 * guard on every connection it opens, as guardedConnector does for undici: an IP-literal host
 * refused before connecting, every resolved address checked by the lookup, and the address
 * connected to checked before the request is written (the check runs at 'connect', ahead of
 * the request's write that waits on it). A refusal fails the request with DestinationDeniedError.
 */
export function guardedAgent<A extends Agent>(agent: A, guard: NetworkGuard): A {
  const createConnection = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    try {
      if (options.host) guard.checkHost(options.host);
    } catch (denied) {
      callback?.(denied as Error, undefined as never);
      return undefined;
    }
    const socket = createConnection({ ...options, lookup: guard.lookup }, callback);
    socket?.once('connect', () => {
      try {
        guard.checkConnected(socket as Socket);
      } catch {
        // checkConnected destroyed the socket with the refusal, which fails the request: nothing is left to do.
      }
    });
    return socket;
  };
  return agent;
}
