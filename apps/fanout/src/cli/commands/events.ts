import { eventViewSchema, type DeliveryView } from '@fanout/dashboard';
import type { DeploymentClient } from '../deployment-client.js';
import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { formatTable, printJson, printLine, type CliIo, type Column } from '../output.js';

export interface EventsOptions {
  /** Also show each delivery's attempt log. */
  readonly attempts?: true | undefined;
  readonly json?: true | undefined;
}

const DELIVERY_COLUMNS: readonly Column<DeliveryView>[] = [
  { header: 'DESTINATION', value: (delivery) => delivery.destination },
  { header: 'STATUS', value: (delivery) => delivery.status },
  { header: 'ATTEMPTS', value: (delivery) => delivery.attempts },
  { header: 'DELIVERED AT', value: (delivery) => delivery.deliveredAt },
  { header: 'LAST ERROR', value: (delivery) => delivery.lastError },
];

type AttemptRow = NonNullable<DeliveryView['attemptLog']>[number];

const ATTEMPT_COLUMNS: readonly Column<AttemptRow>[] = [
  { header: '#', value: (attempt) => attempt.attempt },
  { header: 'AT', value: (attempt) => attempt.at },
  { header: 'MS', value: (attempt) => attempt.durationMs },
  { header: 'OUTCOME', value: (attempt) => attempt.outcome },
  { header: 'STATUS', value: (attempt) => attempt.statusCode },
  { header: 'ERROR', value: (attempt) => [attempt.error, attempt.response].filter(Boolean).join(': ') },
];

/** `fanout events <id>`: where each delivery of one event stands (GET /events/:id). */
export async function eventsCommand(id: string, { attempts, json }: EventsOptions, client: DeploymentClient, io: CliIo): Promise<ExitCode> {
  const event = await client.admin({ path: `/events/${encodeURIComponent(id)}${attempts ? '?attempts=true' : ''}`, schema: eventViewSchema });
  if (json) {
    printJson(io, event);
    return EXIT_CODES.OK;
  }
  printLine(io, `event ${event.id}  flow ${event.flow}  received ${event.receivedAt}`);
  printLine(io);
  printLine(io, formatTable(DELIVERY_COLUMNS, event.deliveries));
  for (const delivery of attempts ? event.deliveries : []) {
    printLine(io);
    printLine(io, `${delivery.destination}:`);
    printLine(io, delivery.attemptLog?.length ? formatTable(ATTEMPT_COLUMNS, delivery.attemptLog).replace(/^/gm, '  ') : '  no attempts');
  }
  return EXIT_CODES.OK;
}
