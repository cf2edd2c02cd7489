import type { AmqpDestination } from '@fanout/flows';
import { connect, type ChannelModel, type ConfirmChannel, type Message } from 'amqplib';
import type { DestinationClient } from '../attempt.js';
import { withDeadline } from '../deadline.js';
import { errorMessage, oneLine } from '../error-facts.js';
import { createNetworkGuard, type NetworkGuard } from '../network-guard.js';
import type { DestinationKind, KindOptions } from '../registry.js';
import { classifyAmqpResult, type AmqpPublishResult } from './classify-outcome.js';

/** A broker connection shared by the destinations on one URL: opened when first needed, opened again after it is lost. */
interface BrokerConnection {
  get(): Promise<ChannelModel>;
  close(): Promise<void>;
}

/**
 * How long opening a connection may take, ms. Attempts give up at their own timeout anyway;
 * this ends the shared opening too, so a broker that swallows packets is tried again soon
 * rather than after the system's TCP timeout, with every attempt meanwhile waiting on it.
 */
const CONNECT_TIMEOUT_MS = 10_000;

/** Why the broker closed a connection, once it did: the reason its channels' pending publishes failed. */
const closedBy = new WeakMap<ChannelModel, Error>();

/**
 * Opens a connection to the broker behind the network guard: an IP-literal host is checked
 * before connecting, and amqplib hands the socket options (the guard's lookup) to
 * net.connect / tls.connect, so every address a name resolves to is checked at each
 * connection, before a byte (the credentials included) is sent.
 */
async function guardedConnect(url: string, guard: NetworkGuard): Promise<ChannelModel> {
  guard.checkHost(new URL(url).hostname);
  return connect(url, { timeout: CONNECT_TIMEOUT_MS, clientProperties: { connection_name: 'fanout' }, lookup: guard.lookup });
}

function brokerConnection(url: string, guard: NetworkGuard): BrokerConnection {
  let current: Promise<ChannelModel> | undefined;
  let closing = false;
  return {
    get() {
      if (closing) return Promise.reject(new Error('the amqp kind is closed'));
      if (current) return current;
      const opening = guardedConnect(url, guard).then(
        (model) => {
          // 'close' follows every 'error'; without a listener an 'error' would crash the process.
          model.on('error', (error: Error) => void (closedBy.has(model) || closedBy.set(model, error)));
          model.on('close', () => void (current === opening && (current = undefined)));
          return model;
        },
        (error: unknown) => {
          if (current === opening) current = undefined;
          throw error;
        },
      );
      current = opening;
      return opening;
    },
    async close() {
      closing = true;
      const model = await current?.catch(() => undefined);
      await model?.close().catch(() => {});
    },
  };
}

/** A basic.return's fields (amqplib types them as a delivery's). */
interface ReturnedFields {
  readonly exchange: string;
  readonly routingKey: string;
  readonly replyCode?: number;
  readonly replyText?: string;
}

/** A destination's confirm channel, with what the broker said when it returned a message or closed the channel. */
interface PublishChannel {
  readonly model: ChannelModel;
  readonly channel: ConfirmChannel;
  /** Returned (unroutable) messages by message id, not yet matched with their confirm. */
  readonly returned: Map<string, ReturnedFields>;
  /** Why the broker closed the channel or its connection, once it did. */
  closedBy?: Error;
}

/**
 * The amqp kind, on amqplib. One connection per broker URL for the process, opened at the
 * first attempt that needs it and again at the first one after it was lost (the attempts
 * meanwhile fail fast and are retried on the destination's backoff); one confirm channel per
 * destination on it, so a destination whose exchange is missing (a channel error) never
 * closes another's channel. Every connection passes the network guard (guardedConnect).
 */
export function createAmqpKind({ networkGuard = createNetworkGuard() }: KindOptions = {}): DestinationKind<AmqpDestination> {
  const connections = new Map<string, BrokerConnection>();
  return {
    type: 'amqp',
    client(destination) {
      let connection = connections.get(destination.url);
      if (!connection) connections.set(destination.url, (connection = brokerConnection(destination.url, networkGuard)));
      return amqpClient(connection, destination);
    },
    async close() {
      await Promise.allSettled([...connections.values()].map((connection) => connection.close()));
      connections.clear();
    },
  };
}

function amqpClient(connection: BrokerConnection, destination: AmqpDestination): DestinationClient {
  let open: Promise<PublishChannel> | undefined;
  const channel = (): Promise<PublishChannel> => {
    if (open) return open;
    const opening = (async (): Promise<PublishChannel> => {
      const model = await connection.get();
      const publishing: PublishChannel = { model, channel: await model.createConfirmChannel(), returned: new Map() };
      // With `mandatory`, RabbitMQ sends an unroutable message's basic.return before its ack.
      publishing.channel.on('return', (message: Message) => {
        const id = message.properties.messageId as string | undefined;
        if (id !== undefined) publishing.returned.set(id, message.fields as unknown as ReturnedFields);
      });
      // The error comes before the pending publishes fail with a bare "channel closed".
      publishing.channel.on('error', (error: Error) => void (publishing.closedBy ??= error));
      publishing.channel.on('close', () => void (open === opening && (open = undefined)));
      return publishing;
    })();
    open = opening;
    opening.catch(() => void (open === opening && (open = undefined)));
    return opening;
  };

  return {
    async deliver(attempt) {
      const result = await withDeadline(destination.timeoutMs, attempt.signal, async () => {
        const publishing = await channel();
        return new Promise<AmqpPublishResult>((resolve) => {
          const options = {
            persistent: destination.persistent,
            mandatory: true,
            messageId: attempt.eventId,
            ...(attempt.contentType === '' ? {} : { contentType: attempt.contentType }),
            timestamp: Math.floor(attempt.startedAt / 1_000),
            headers: { 'webhook-id': attempt.eventId, 'fanout-flow': attempt.flow },
          };
          publishing.channel.publish(destination.exchange, destination.routingKey, attempt.body, options, (error: unknown) => {
            const returned = publishing.returned.get(attempt.eventId);
            publishing.returned.delete(attempt.eventId);
            if (error) {
              // A nack comes with an error whose message says nothing; a closed channel or connection has its reason.
              const reason = publishing.closedBy ?? closedBy.get(publishing.model);
              if (reason) resolve({ kind: 'failed', error: reason, timedOut: false });
              else if (errorMessage(error).includes('nack')) resolve({ kind: 'nacked' });
              else resolve({ kind: 'failed', error, timedOut: false });
            } else if (returned) {
              resolve({ kind: 'returned', replyCode: returned.replyCode ?? 312, replyText: returned.replyText ?? 'NO_ROUTE', exchange: returned.exchange, routingKey: returned.routingKey });
            } else resolve({ kind: 'confirmed' });
          });
        });
      });
      if (!result.ok && result.interrupted) return { outcome: { kind: 'retry', reason: 'interrupted by shutdown' }, durationMs: result.durationMs, interrupted: true };
      const published: AmqpPublishResult = result.ok ? result.value : { kind: 'failed', error: result.error, timedOut: result.timedOut };
      const outcome = classifyAmqpResult(published);
      const detail = published.kind === 'failed' ? oneLine(errorMessage(published.error)) : undefined;
      return { outcome, durationMs: result.durationMs, ...(detail !== undefined && outcome.kind !== 'delivered' && detail !== outcome.reason ? { response: detail } : {}) };
    },
  };
}
