import { randomUUID } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect as connectNatsServer, type NatsConnection } from '@nats-io/transport-node';
import { connect as connectAmqp, type ChannelModel } from 'amqplib';

/** The machine's RabbitMQ (tests use names of their own on it and delete them). FANOUT_TEST_AMQP_URL overrides. */
export const RABBITMQ_URL = process.env['FANOUT_TEST_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
/** The machine's NATS server with JetStream. FANOUT_TEST_NATS_URL overrides. */
export const NATS_URL = process.env['FANOUT_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** A name no other test uses: `<prefix>-<8 hex>`. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

function unreachable(what: string, url: string, start: string, error: unknown): Error {
  return new Error(`${what} does not answer on ${new URL(url).host} (${error instanceof Error ? error.message : String(error)}); start it with: ${start}`);
}

/** A connection of the test's own to RabbitMQ; fails with one line saying how to start it when it does not answer. */
export async function connectRabbitMq(): Promise<ChannelModel> {
  try {
    const model = await connectAmqp(RABBITMQ_URL);
    model.on('error', () => {});
    return model;
  } catch (error) {
    throw unreachable('RabbitMQ', RABBITMQ_URL, 'rabbitmq-server -detached', error);
  }
}

/** A connection of the test's own to NATS and its JetStream manager; fails with one line saying how to start it when it does not answer. */
export async function connectNats(): Promise<{ connection: NatsConnection; jsm: JetStreamManager }> {
  let connection: NatsConnection;
  try {
    connection = await connectNatsServer({ servers: NATS_URL });
  } catch (error) {
    throw unreachable('NATS', NATS_URL, 'nats-server -a 127.0.0.1 -p 4222 -js', error);
  }
  try {
    return { connection, jsm: await jetstreamManager(connection) };
  } catch (error) {
    await connection.close();
    throw new Error(`NATS on ${new URL(NATS_URL).host} answers without JetStream (${error instanceof Error ? error.message : String(error)}); start it with -js`, { cause: error });
  }
}
