import type { Destination } from '@fanout/flows';
import type { DestinationClient } from './attempt.js';
import { createHttpKind } from './http/http-kind.js';
import type { NetworkGuard } from './network-guard.js';

/**
 * A destination kind: how one `type` of destination is delivered to and how its results are
 * classified. It holds the process's connections for its kind (one keep-alive pool per
 * origin for http) and hands out a client per destination. The worker knows this interface,
 * never the kinds; the DeliveryFlow schema (in @fanout/flows) declares each kind's fields.
 */
export interface DestinationKind<D extends Destination = Destination> {
  readonly type: D['type'];
  client(destination: D): DestinationClient;
  /** Closes the kind's connections, in-flight attempts' included. */
  close(): Promise<void>;
}

type KindOf<T extends Destination['type']> = DestinationKind<Extract<Destination, { type: T }>>;

/** One kind per destination type. */
export type DestinationKinds = { readonly [T in Destination['type']]: KindOf<T> };

export interface DestinationRegistry {
  /** A client for the destination, made once per destination and reused. */
  clientFor(destination: Destination): DestinationClient;
  close(): Promise<void>;
}

/** What every kind's connections share. */
export interface KindOptions {
  /** Which addresses destinations may connect to. Default `createNetworkGuard()`: its default deny list. */
  readonly networkGuard?: NetworkGuard;
}

/** Every kind fanout delivers to, each with connections of its own. */
export function defaultKinds(options: KindOptions = {}): DestinationKinds {
  return { http: createHttpKind(options) };
}

export function createDestinationRegistry(kinds: DestinationKinds = defaultKinds()): DestinationRegistry {
  const clients = new Map<Destination, DestinationClient>();
  return {
    clientFor(destination) {
      let client = clients.get(destination);
      if (!client) {
        client = (kinds[destination.type] as DestinationKind).client(destination);
        clients.set(destination, client);
      }
      return client;
    },
    close: async () => void (await Promise.allSettled(Object.values(kinds).map((kind) => (kind as DestinationKind).close()))),
  };
}
