import { CommanderError } from '@commander-js/extra-typings';
import { CliError, EXIT_CODES, type ExitCode } from './exit-codes.js';
import type { CliIo } from './output.js';
import { buildProgram } from './program.js';

/**
 * Runs one `fanout` command line (`argv` without node and the script) and answers its exit
 * code. Every failure is one line on stderr: a command's own, or that of a process that could
 * not start (a bad variable, flow, Redis or port), never a stack trace.
 */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.OK;
  const program = buildProgram(io, env, (code) => void (exitCode = code));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has printed its own message (or the help, or the version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE;
    io.stderr.write(`fanout: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_CODES.FAILED;
  }
}
