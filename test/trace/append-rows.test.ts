// appendRows copies a pick of rows column by column, one copy loop per element type: every column of
// the layout must be copied, whatever its type.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocChunk, appendRows, COLUMN_LAYOUT } from '../../src/trace/chunk.js';
import type { TraceChunk } from '../../src/trace/schema.js';

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

test('appendRows copies every column of the picked rows after the rows already there', () => {
  const src = allocChunk(6, 0);
  const dst = allocChunk(6, 0);
  COLUMN_LAYOUT.forEach(([name], c) => {
    const column = src[name] as Column;
    // Distinct per column and row, and no expect op (whose flags are re-interned instead).
    for (let i = 0; i < 6; i++) column[i] = name === 'op' ? 1 + i : 10 * c + i + 1;
  });
  src.length = 6;
  dst.length = 1;
  appendRows(dst, src, [1, 3, 4]);
  assert.equal(dst.length, 4);
  for (const [name] of COLUMN_LAYOUT) {
    const column = dst[name as keyof TraceChunk] as Column;
    const from = src[name] as Column;
    assert.deepEqual(Array.from(column.subarray(0, 4)), [0, from[1], from[3], from[4]], name);
  }
});
