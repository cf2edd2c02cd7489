import type { Destination } from '@fanout/flows';
import type { DestinationClient } from './attempt.js';
import { createAmqpKind } from './amqp/amqp-kind.js';
import { createHttpKind } from './http/http-kind.js';
import { createNatsKind } from './nats/nats-kind.js';
import type { NetworkGuard } from './network-guard.js';
import { createS3Kind } from './s3/s3-kind.js';

/**
 * A destination kind: how one `type` of destination is delivered to and how its results are
 * classified. It holds the process's connections for its kind (one keep-alive pool per
 * origin for http) and hands out a client per destination. The worker knows this interface,
 * never the kinds; the DeliveryFlow schema (in @fanout/flows) declares each kind's fields.
 */
export interface DestinationKind<D extends Destination = Destination> {
  readonly type: D['type'];
  client(destination: D): DestinationClient;
  /** For kinds that hold attempts back to send them together (batched s3): send what they hold now, and from now on at once. */
  drain?(): void;
  /** Closes the kind's connections, in-flight attempts' included. */
  close(): Promise<void>;
}

type KindOf<T extends Destination['type']> = DestinationKind<Extract<Destination, { type: T }>>;

/** One kind per destination type. */
export type DestinationKinds = { readonly [T in Destination['type']]: KindOf<T> };

export interface DestinationRegistry {
  /** A client for the destination, made once per destination and reused. */
  clientFor(destination: Destination): DestinationClient;
  /**
   * A stopping worker takes no more jobs: attempts waiting to be sent together (in a batch)
   * are sent now rather than after their wait, and later ones at once.
   */
  drain(): void;
  close(): Promise<void>;
}

/** What every kind's connections share. */
export interface KindOptions {
  /** Which addresses destinations may connect to (FANOUT_DESTINATION_DENY / _ALLOW). Default `createNetworkGuard()`: its default deny list. */
  readonly networkGuard?: NetworkGuard;
}

/** Every kind fanout delivers to, each with connections of its own. */
export function defaultKinds(options: KindOptions = {}): DestinationKinds {
  return { http: createHttpKind(options), s3: createS3Kind(options), amqp: createAmqpKind(options), nats: createNatsKind(options) };
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
    drain() {
      for (const kind of Object.values(kinds) as DestinationKind[]) kind.drain?.();
    },
    close: async () => void (await Promise.allSettled(Object.values(kinds).map((kind) => (kind as DestinationKind).close()))),
  };
}
