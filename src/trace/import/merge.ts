// Two recordings of one run, merged by timestamp: the VMM's ioctls (strace -ttt) and KVM's fault
// tracepoints (trace-cmd / perf script). Both must use the same clock; `offset` (seconds, added to the
// second recording's times) lines them up when they do not (trace-cmd's default clock is not wall
// time: record with `-C tai` and pass -37, or with perf `-k CLOCK_REALTIME` and no offset).

import { InputError } from '../../errors.js';
import type { ImportedRow } from './result.js';

/** The row, or an error naming its recording and line when it has no timestamp to merge by. */
function timed(row: ImportedRow, name: string): ImportedRow & { time: number } {
  if (row.time === undefined) {
    throw new InputError(`${name}: line ${row.line} has no timestamp; merging needs timestamps on both recordings (strace -ttt)`);
  }
  return row as ImportedRow & { time: number };
}

/**
 * Rows of `a` and `b` in time order. On equal times `a` (the ioctl) goes first: a memslot change and a
 * fault in the same microsecond are far more likely cause and effect than the reverse. Each input
 * keeps its own order (stable), so rows of one recording are never reordered among themselves.
 */
export function mergeByTime(a: readonly ImportedRow[], b: readonly ImportedRow[], offset = 0, names: readonly [string, string] = ['first', 'second']): ImportedRow[] {
  for (const r of a) timed(r, names[0]);
  for (const r of b) timed(r, names[1]);
  const out: ImportedRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.time! <= b[j]!.time! + offset)) out.push(a[i++]!);
    else out.push(shifted(b[j++]!, offset));
  }
  return out;
}

/** mergeByTime over two streams, holding one row of each: recordings too long to load. */
export async function* mergeStreamsByTime(
  a: AsyncIterable<ImportedRow>,
  b: AsyncIterable<ImportedRow>,
  offset = 0,
  names: readonly [string, string] = ['first', 'second'],
): AsyncGenerator<ImportedRow> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  const next = async (it: AsyncIterator<ImportedRow>, name: string): Promise<(ImportedRow & { time: number }) | undefined> => {
    const r = await it.next();
    return r.done ? undefined : timed(r.value, name);
  };
  let x = await next(ia, names[0]);
  let y = await next(ib, names[1]);
  while (x !== undefined || y !== undefined) {
    if (y === undefined || (x !== undefined && x.time <= y.time + offset)) {
      yield x!;
      x = await next(ia, names[0]);
    } else {
      yield shifted(y, offset);
      y = await next(ib, names[1]);
    }
  }
}

/** A row of the second recording on the first one's clock. */
function shifted(r: ImportedRow, offset: number): ImportedRow {
  return { ...r, time: r.time! + offset };
}
