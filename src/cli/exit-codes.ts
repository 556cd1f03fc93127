// The one place where an error kind becomes an exit code. CI gates on these numbers (README, "Exit codes").

import type { ErrorKind } from '../errors.js';

export const EXIT_OK = 0;
/** Invalid input (a trace, a capture), a divergence, a regression, a failed job, or a missing facility. */
export const EXIT_FAILURE = 1;
/** Bad command line: options, profiles, or results directories that are not s2bench's. */
export const EXIT_USAGE = 2;
/** A bug in s2bench (BSD sysexits EX_SOFTWARE): never the user's input, so never 1 or 2. */
export const EXIT_INTERNAL = 70;

const EXIT_BY_KIND: Record<ErrorKind, number> = {
  input: EXIT_FAILURE,
  unavailable: EXIT_FAILURE,
  usage: EXIT_USAGE,
  profile: EXIT_USAGE,
  'run-dir': EXIT_USAGE,
};

export function exitCodeFor(kind: ErrorKind): number {
  return EXIT_BY_KIND[kind];
}
