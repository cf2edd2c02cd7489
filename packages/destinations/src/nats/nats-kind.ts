import type { NatsDestination } from '@fanout/flows';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import type { DestinationClient } from '../attempt.js';
import { withDeadline } from '../deadline.js';
import { errorMessage, oneLine } from '../error-facts.js';
import { createNetworkGuard, type NetworkGuard } from '../network-guard.js';
import type { DestinationKind, KindOptions } from '../registry.js';
import { classifyNatsFailure } from './classify-outcome.js';
import { guardedConnectionOptions } from './connection-options.js';

/** One server connection shared by the destinations on one URL, with its JetStream client. */
interface ServerConnection {
  get(): Promise<JetStreamClient>;
  close(): Promise<void>;
}

function serverConnection(url: string, guard: NetworkGuard): ServerConnection {
  let current: Promise<{ connection: NatsConnection; js: JetStreamClient }> | undefined;
  let closing = false;
  return {
    async get() {
      if (closing) throw new Error('the nats kind is closed');
      if (!current) {
        // Once connected, the client reconnects by itself, holding publishes meanwhile, until it
        // gives up; a connection that fails or was given up is opened again (its name resolved
        // and checked again) by the next attempt.
        const opening = guardedConnectionOptions(url, guard).then((options) => connect({ ...options, name: 'fanout' })).then((connection) => {
          void connection.closed().then(() => void (current === opening && (current = undefined)));
          return { connection, js: jetstream(connection) };
        });
        current = opening;
        opening.catch(() => void (current === opening && (current = undefined)));
      }
      return (await current).js;
    },
    async close() {
      closing = true;
      const opened = await current?.catch(() => undefined);
      await opened?.connection.close().catch(() => {});
    },
  };
}

/**
 * The nats kind, on the @nats-io client (the maintained v3 line of nats.js, which superseded
 * the `nats` package). One connection per server URL for the process; each attempt is one
 * JetStream publish with `Nats-Msg-Id` = the event id, so the stream's duplicate window keeps a
 * repeat (a retry after a lost acknowledgement, a replay) out; it is delivered once JetStream
 * acknowledges, a duplicate's acknowledgement included. Every connection passes the network
 * guard (guardedConnectionOptions).
 */
export function createNatsKind({ networkGuard = createNetworkGuard() }: KindOptions = {}): DestinationKind<NatsDestination> {
  const connections = new Map<string, ServerConnection>();
  return {
    type: 'nats',
    client(destination) {
      let connection = connections.get(destination.url);
      if (!connection) connections.set(destination.url, (connection = serverConnection(destination.url, networkGuard)));
      return natsClient(connection, destination);
    },
    async close() {
      await Promise.allSettled([...connections.values()].map((connection) => connection.close()));
      connections.clear();
    },
  };
}

function natsClient(connection: ServerConnection, destination: NatsDestination): DestinationClient {
  return {
    async deliver(attempt) {
      const result = await withDeadline(destination.timeoutMs, attempt.signal, async () => {
        const js = await connection.get();
        const h = headers();
        h.set('webhook-id', attempt.eventId);
        h.set('fanout-flow', attempt.flow);
        if (attempt.contentType !== '') h.set('Content-Type', attempt.contentType);
        return js.publish(destination.subject, attempt.body, { msgID: attempt.eventId, headers: h, timeout: destination.timeoutMs });
      });
      if (result.ok) return { outcome: { kind: 'delivered' }, durationMs: result.durationMs, response: `stream ${result.value.stream} seq ${result.value.seq}${result.value.duplicate ? ' (duplicate)' : ''}` };
      if (result.interrupted) return { outcome: { kind: 'retry', reason: 'interrupted by shutdown' }, durationMs: result.durationMs, interrupted: true };
      const outcome = classifyNatsFailure(result.error, destination.subject, result.timedOut);
      const detail = oneLine(errorMessage(result.error));
      return { outcome, durationMs: result.durationMs, ...(detail !== outcome.reason ? { response: detail } : {}) };
    },
  };
}
