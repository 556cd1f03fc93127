// Bounds on one replay (docs/reliability.md): the model's memory (`--max-memory`) and, for jobs that
// run on the main thread (`run -w 0`), the job's time (`--job-timeout`). Pool workers need no time
// check here: the pool terminates a worker that runs past the timeout.
//
// Memory is checked before every growth of the model (src/core/model-memory.ts), so the row that
// would cross the limit fails before it allocates. Time is checked between slices of a chunk: a replay
// is synchronous, so nothing can stop a row half-way. A slice ends after SLICE_ROWS rows or once its
// access rows sweep SLICE_PAGES pages, so a slice is quick unless one row is slow on its own; a single
// row is bounded by the trace format (an access row sweeps at most 1 TiB, src/trace/row.ts).

import { extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { M } from '../core/metrics.js';
import { ModelMemoryError, withModelMemoryLimit } from '../core/model-memory.js';
import type { Vm } from '../core/vm.js';
import { InputError, locate } from '../errors.js';
import { sliceChunk } from '../trace/chunk.js';
import { accessPages } from '../trace/columns.js';
import { isAccessOp, OPS, type TraceChunk } from '../trace/schema.js';

export interface ReplayLimits {
  /** The trace's file, for messages. */
  source?: string;
  /** Most bytes the model may hold (Vm.modelBytes()); none when absent. */
  maxModelBytes?: number;
  /** performance.now() past which the replay stops with a ReplayTimeout; none when absent. */
  deadline?: number;
  /** The timeout the deadline came from, for the message. */
  timeoutMs?: number;
}

/** A replay past its job's deadline (`run -w 0 --job-timeout`). */
export class ReplayTimeout extends Error {
  override name = 'ReplayTimeout';
}

/** Rows of a slice between two deadline checks. */
export const SLICE_ROWS = 4096;
/** 4K pages the access rows of a slice may sweep before the deadline is checked (4 GiB). */
export const SLICE_PAGES = 2 ** 20;

/** Whether `limits` bound anything (else a replay feeds whole chunks, unchecked). */
export function hasLimits(limits: ReplayLimits): boolean {
  return limits.maxModelBytes !== undefined || limits.deadline !== undefined;
}

/**
 * Replays `chunk` through `replay` within `limits`: a memory limit crossed becomes an InputError naming
 * the file and the row, a deadline passed a ReplayTimeout naming the last row replayed.
 */
export function feedWithin(limits: ReplayLimits, vm: Vm, chunk: TraceChunk, replay: (part: TraceChunk) => void): void {
  const parts = limits.deadline === undefined ? [chunk] : slices(chunk);
  for (const part of parts) {
    const eventsBefore = vm.counters[M.events]!;
    try {
      if (limits.maxModelBytes === undefined) replay(part);
      else withModelMemoryLimit(limits.maxModelBytes, () => vm.modelBytes(), () => replay(part));
    } catch (err) {
      if (!(err instanceof ModelMemoryError)) throw err;
      // The row being replayed has been counted (replayChunk counts a row before replaying it).
      const row = vm.counters[M.events]! - eventsBefore - 1;
      throw new InputError(`a ${OPS[part.op[row]!] ?? '?'} row: ${err.message}; raise --max-memory to replay it`, rowAt(limits, part, row));
    }
    if (limits.deadline !== undefined && performance.now() > limits.deadline) {
      const where = rowAt(limits, part, part.length - 1);
      throw new ReplayTimeout(
        `${locate(where)}: timed out after ${(limits.timeoutMs ?? 0) / 1000} s (--job-timeout) with the rows up to here replayed`,
      );
    }
  }
}

function rowAt(limits: ReplayLimits, chunk: TraceChunk, row: number): { file: string; line: number; record: boolean } {
  const file = limits.source ?? 'trace';
  return { file, line: chunk.line[row]!, record: extname(file).toLowerCase() === '.s2t' };
}

/** `chunk` in slices of at most SLICE_ROWS rows and SLICE_PAGES swept pages (a row alone may sweep more). */
export function* slices(chunk: TraceChunk): Generator<TraceChunk> {
  let start = 0;
  while (start < chunk.length) {
    let end = start;
    let work = 0;
    while (end < chunk.length && end - start < SLICE_ROWS && work < SLICE_PAGES) {
      work += isAccessOp(chunk.op[end]!) ? accessPages(chunk, end) : 1;
      end++;
    }
    yield start === 0 && end === chunk.length ? chunk : sliceChunk(chunk, start, end);
    start = end;
  }
}
