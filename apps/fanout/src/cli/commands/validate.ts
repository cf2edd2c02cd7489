import { FlowLoadError, loadFlows } from '@fanout/flows';
import { EXIT_CODES, type ExitCode } from '../exit-codes.js';
import { printJson, printLine, type CliIo } from '../output.js';

export interface ValidateOptions {
  readonly json?: true | undefined;
}

/**
 * `fanout validate [path]`: loads the flows as `fanout start` would (with `${env:…}` from
 * `env`), without Redis. Exit 0, or 1 with the load error's one line.
 */
export async function validateCommand(path: string, { json }: ValidateOptions, env: NodeJS.ProcessEnv, io: CliIo): Promise<ExitCode> {
  try {
    const flows = await loadFlows(path, env);
    if (json) {
      printJson(io, { valid: true, path, flows: flows.map((flow) => ({ name: flow.name, destinations: flow.destinations.map((destination) => destination.name) })) });
    } else {
      printLine(io, `${path}: ${flows.length} ${flows.length === 1 ? 'flow' : 'flows'}, valid`);
      for (const flow of flows) printLine(io, `  ${flow.name}: ${flow.destinations.map((destination) => `${destination.name} (${destination.type})`).join(', ')}`);
    }
    return EXIT_CODES.OK;
  } catch (error) {
    if (!(error instanceof FlowLoadError)) throw error;
    if (json) printJson(io, { valid: false, error: { code: error.code, message: error.message, file: error.file, document: error.document ?? null, path: error.path } });
    else io.stderr.write(`fanout: ${error.message}\n`);
    return EXIT_CODES.FAILED;
  }
}
