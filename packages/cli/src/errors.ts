// What can go wrong, and the exit code each failure gives, so that scripts can tell them apart.
// main.ts turns every CliError into one line on stderr; nothing else reaches the user as a stack.

export const EXIT = {
  ok: 0,
  /** The server answered with an error status (4xx/5xx), or `serve`/`dev` could not start. */
  failed: 1,
  /** Bad command line: unknown command or option, missing argument, bad JSON, bad duration. */
  usage: 2,
  /** No Resonate server answered: connection refused, timeout, or an answer that is not an envelope. */
  unreachable: 3,
  /** `invoke --wait`: the promise settled, but not as resolved (rejected, canceled or timed out). */
  rejected: 4,
  /** Interrupted by Ctrl-C (the shell's convention: 128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

/** A flag or argument the command cannot use. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** The server answered with a protocol error; `status` is its head.status (or the HTTP status). */
export class ServerError extends CliError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(`${status} ${serverMessage}`, EXIT.failed);
  }
}

/** Nothing that speaks the protocol answered at the given URL. */
export class UnreachableError extends CliError {
  constructor(message: string) {
    super(message, EXIT.unreachable);
  }
}
