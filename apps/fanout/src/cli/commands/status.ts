import { statusSchema, type DestinationStatus } from '@fanout/dashboard';
import type { DeploymentClient } from '../deployment-client.js';
import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { formatTable, printJson, printLine, type CliIo, type Column } from '../output.js';

export interface StatusOptions {
  readonly json?: true | undefined;
}

const COLUMNS: readonly Column<DestinationStatus>[] = [
  { header: 'FLOW', value: (row) => row.flow },
  { header: 'DESTINATION', value: (row) => row.destination },
  { header: 'WAITING', value: (row) => row.waiting },
  { header: 'ACTIVE', value: (row) => row.active },
  { header: 'DELAYED', value: (row) => row.delayed },
  { header: 'FAILED', value: (row) => row.failed },
  { header: 'STATE', value: (row) => row.state },
];

/** `fanout status`: every destination's queue and state (GET /status). */
export async function statusCommand({ json }: StatusOptions, client: DeploymentClient, io: CliIo): Promise<ExitCode> {
  const status = await client.admin({ path: '/status', schema: statusSchema });
  if (json) printJson(io, status);
  else printLine(io, status.destinations.length === 0 ? 'no destinations' : formatTable(COLUMNS, status.destinations));
  return EXIT_CODES.OK;
}
