// Two recordings of one run, merged by timestamp: the VMM's ioctls (strace -ttt) and KVM's fault
// tracepoints (trace-cmd / perf script). Both must use the same clock; `offset` (seconds, added to the
// second recording's times) lines them up when they do not (trace-cmd's default clock is not wall
// time: record with `-C tai` and pass -37, or with perf `-k CLOCK_REALTIME` and no offset).

import { InputError } from '../../errors.js';
import type { ImportedRow } from './result.js';

/**
 * Rows of `a` and `b` in time order. On equal times `a` (the ioctl) goes first: a memslot change and a
 * fault in the same microsecond are far more likely cause and effect than the reverse. Each input
 * keeps its own order (stable), so rows of one recording are never reordered among themselves.
 */
export function mergeByTime(a: readonly ImportedRow[], b: readonly ImportedRow[], offset = 0, names: readonly [string, string] = ['first', 'second']): ImportedRow[] {
  const untimed = (rows: readonly ImportedRow[], name: string): void => {
    const row = rows.find((r) => r.time === undefined);
    if (row) {
      throw new InputError(`${name}: line ${row.line} has no timestamp; merging needs timestamps on both recordings (strace -ttt)`);
    }
  };
  untimed(a, names[0]);
  untimed(b, names[1]);
  const out: ImportedRow[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.time! <= b[j]!.time! + offset)) out.push(a[i++]!);
    else {
      const r = b[j++]!;
      out.push({ ...r, time: r.time! + offset });
    }
  }
  return out;
}
