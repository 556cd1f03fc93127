// Two ways into a TraceBuilder that must agree: an unquoted CSV line from its bytes (pushLineBytes),
// and the same line's comma-split cell texts (pushCells).

import assert from 'node:assert/strict';
import { TraceBuilder } from '../../src/trace/builder.js';

/** Asserts that `lines` (no quotes) give the same error messages and the same chunks both ways. */
export function assertBytesAgreeWithCells(lines: readonly string[], chunkRows: number): void {
  const fast = new TraceBuilder(chunkRows, 'f');
  const slow = new TraceBuilder(chunkRows, 'f');
  lines.forEach((text, k) => {
    let a: unknown;
    let b: unknown;
    try {
      const bytes = Buffer.from(text);
      assert.equal(fast.pushLineBytes(bytes, 0, bytes.length, k + 1), true);
    } catch (err) {
      a = (err as Error).message;
    }
    try {
      slow.pushCells(text.split(','), k + 1);
    } catch (err) {
      b = (err as Error).message;
    }
    assert.equal(a, b, text);
  });
  assert.deepEqual(fast.finish(), slow.finish());
}
