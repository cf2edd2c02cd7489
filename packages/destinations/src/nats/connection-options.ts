import { isIP, isIPv6 } from 'node:net';
import type { ConnectionOptions, NodeConnectionOptions } from '@nats-io/transport-node';
import type { NetworkGuard } from '../network-guard.js';

/** The connection options a destination URL stands for: its server without userinfo, and the userinfo as user and password, or as a token. */
export function natsConnectionOptions(url: string): ConnectionOptions {
  const parsed = new URL(url);
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  const server = `${parsed.protocol}//${parsed.host}`;
  const auth = user === '' ? {} : pass === '' ? { token: user } : { user, pass };
  return { servers: server, ...auth };
}

/** Reconnects to the addresses checked when connecting before the connection is given up, so that the next attempt resolves the name again: ~10 s of them. */
const MAX_RECONNECTS = 20;
const RECONNECT_WAIT_MS = 500;

/**
 * The connection options behind the network guard. The client dials the addresses the guard
 * allowed, never the name (it would resolve the name again itself, and a rebound name could
 * then lead anywhere): so it reconnects to addresses already checked, for MAX_RECONNECTS
 * tries (a server that moved is found by resolving again), and takes no server the cluster
 * gossips (those were never checked). A `tls://` URL's name stays the one its certificate is
 * checked against.
 */
export async function guardedConnectionOptions(url: string, guard: NetworkGuard): Promise<NodeConnectionOptions> {
  const options = natsConnectionOptions(url);
  const { protocol, hostname, port } = new URL(url);
  const addresses = await guard.addressesOf(hostname);
  const servers = addresses.map((address) => {
    const host = isIPv6(address) ? `[${address}]` : address;
    return port ? `${host}:${port}` : host;
  });
  const named = isIP(hostname) === 0 && !hostname.startsWith('[');
  // The transport hands `tls` to tls.connect as it is; its type leaves servername out.
  const tls: NonNullable<NodeConnectionOptions['tls']> & { servername: string } = { servername: hostname };
  return {
    ...options,
    servers,
    ignoreClusterUpdates: true,
    maxReconnectAttempts: MAX_RECONNECTS,
    reconnectTimeWait: RECONNECT_WAIT_MS,
    ...(protocol === 'tls:' && named && { tls }),
  };
}
