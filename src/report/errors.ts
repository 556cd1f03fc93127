// Errors in a results directory given to `report` or `compare` (missing or malformed files).
// The command line turns them into input errors (exit 2) with this message.

export class RunDirError extends Error {
  override name = 'RunDirError';
}
