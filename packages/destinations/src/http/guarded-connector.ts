import { buildConnector } from 'undici';
import type { NetworkGuard } from '../network-guard.js';

/**
 * undici's connector with the network guard on every connection it opens: the host checked
 * when it is an IP literal, every resolved address checked by the lookup (so DNS rebinding
 * meets the guard at each new connection), and the address actually connected to checked
 * before the socket is handed to a request. A refusal fails the connection with
 * DestinationDeniedError, which the attempt reports as its outcome.
 */
export function guardedConnector(guard: NetworkGuard, options: buildConnector.BuildOptions = {}): buildConnector.connector {
  const connect = buildConnector({ ...options, lookup: guard.lookup });
  return (target, callback) => {
    try {
      guard.checkHost(target.hostname);
    } catch (denied) {
      callback(denied as Error, null);
      return;
    }
    connect(target, (...result) => {
      const [error, socket] = result;
      if (error) return callback(error, null);
      try {
        guard.checkConnected(socket);
      } catch (denied) {
        return callback(denied as Error, null);
      }
      callback(null, socket);
    });
  };
}
