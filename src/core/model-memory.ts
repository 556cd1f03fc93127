// A bound on the model's memory (`--max-memory`, docs/reliability.md): the bytes of the typed arrays
// a Vm holds that grow with what a trace asks for (stage-2 table pool, range maps, host page bitmaps,
// dirty bitmaps, conversion log). Every place that grows one asks `ensureModelMemory()` first, so a
// row that would cross the limit fails before it allocates, with an error the replay turns into the
// trace's file and line, instead of an out-of-memory abort that takes the whole process with it.
//
// The limit is set for the span of one synchronous call (a replay feeding one chunk): the core holds
// no reference to a replay, and a replay on another thread, or a later one on this thread, has its own.

import bytes from 'bytes';

/** A growth that would take the model past its limit. The replay adds the trace's file and line. */
export class ModelMemoryError extends Error {
  override name = 'ModelMemoryError';
  constructor(
    /** What was growing, e.g. `stage-2 table pool`. */
    readonly what: string,
    /** What the model would hold after the growth. */
    readonly wouldHold: number,
    readonly limit: number,
  ) {
    super(`the model would hold ${formatBytes(wouldHold)} (growing its ${what}), over the limit of ${formatBytes(limit)}`);
  }
}

interface Limit {
  readonly bytes: number;
  /** What the model holds now. */
  readonly measure: () => number;
}

let active: Limit | null = null;

/** Run `body` with the model's memory bounded to `bytes` (as `measure` counts it). */
export function withModelMemoryLimit<T>(bytes: number, measure: () => number, body: () => T): T {
  const outer = active;
  active = { bytes, measure };
  try {
    return body();
  } finally {
    active = outer;
  }
}

/**
 * Called before the model allocates `extraBytes` more (a growth: the old array is dropped after the
 * copy, but both are live during it, so the whole new size counts). Throws ModelMemoryError past the
 * limit; free when no limit is set.
 */
export function ensureModelMemory(extraBytes: number, what: string): void {
  if (active === null) return;
  const wouldHold = active.measure() + extraBytes;
  if (wouldHold > active.bytes) throw new ModelMemoryError(what, wouldHold, active.bytes);
}

/** `1.5GB`, `640MB` (powers of 1024, as `--max-memory` takes them): for messages. */
export function formatBytes(n: number): string {
  return bytes.format(n, { decimalPlaces: 1 }) ?? `${n}B`;
}
