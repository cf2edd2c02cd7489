/**
 * What the `fanout` command's exit status means, the same for every command (README,
 * "The fanout command"). Scripts can tell a "no" from a typo, an outage and a missing token.
 */
export const EXIT_CODES = {
  /** Done: the flows are valid, the event was accepted, the replay went through. */
  OK: 0,
  /** The answer is no: a flow file does not load, the flow, destination or event does not exist, the deployment refused the request, some ids were not replayed, `start` could not start. */
  FAILED: 1,
  /** The command line is wrong: an unknown command or option, a bad or missing argument. */
  USAGE: 2,
  /** The deployment did not answer at FANOUT_URL, or answered that it cannot serve now (5xx): try again later. */
  UNAVAILABLE: 3,
  /** The admin API refused the token: FANOUT_ADMIN_TOKEN is unset or wrong. */
  UNAUTHORIZED: 4,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** An error a command ends with: one line on stderr and its exit code, never a stack trace. */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** A wrong command line: exit 2. */
export const usageError = (message: string): CliError => new CliError(message, EXIT_CODES.USAGE);
