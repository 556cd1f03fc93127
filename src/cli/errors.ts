// Errors a user can fix. They carry an exit code and print as one message, never as a stack trace.

/** Exit codes shared by every command: CI gates on them. */
export const EXIT_OK = 0;
/** Invalid input (a trace, a results directory), a divergence, a regression or a failed job. */
export const EXIT_FAILURE = 1;
/** Bad command line. */
export const EXIT_USAGE = 2;

export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

export class UsageError extends UserError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}
