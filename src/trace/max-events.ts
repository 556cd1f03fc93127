// The default bound on a trace's length, apart from the readers (io.ts) that apply it: the command
// line shows it in `run` and `replay --help` without loading them.

/**
 * The most events `readTrace` holds by default: about 1.5 GB of columns (77 bytes an event). Replay
 * needs the whole trace in memory (it replays it more than once); past this, a clear error beats an
 * out-of-memory abort that takes the whole process with it.
 */
export const DEFAULT_MAX_EVENTS = 20_000_000;
