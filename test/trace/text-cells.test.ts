// Text cells of row objects are parsed once per op, field and text (src/trace/text-cells.ts): pushed
// again, a text must store what the same row as CSV cells stores, verbatim spellings and errors
// included.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TraceBuilder } from '../../src/trace/builder.js';
import { rowCells, type TraceRow } from '../../src/trace/row.js';

const ROWS: TraceRow[] = [
  { op: 'memslot', slot: 1, flags: 'log|ro', gpa: 0n, size: 4096n, hva: 0x7f0000000000n, ret: 0 },
  // Not the canonical order: kept verbatim.
  { op: 'memslot', slot: 2, flags: 'ro|log', gpa: 0x1000n, size: 4096n, hva: 0x7f0000001000n, ret: '-EEXIST' },
  { op: 'memslot', slot: 3, flags: '0x3', gpa: 0x2000n, size: 4096n, hva: 0x7f0000002000n, ret: '0x0' },
  { op: 'write', vcpu: 0, gpa: 0x1000n, size: 4096n, flags: 'private', ret: 'ok' },
  { op: 'read', vcpu: 1, gpa: 0x1000n, size: 4096n, flags: 'private', ret: 'memfault' },
  { op: 'attrs', gpa: 0n, size: 4096n, attrs: 'private', flags: 0n, ret: 0 },
  { op: 'iotlb_update', slot: 0, gpa: 0n, size: 4096n, hva: 0x7f0000000000n, flags: 'ro', ret: 0 },
  { op: 'expect', flags: 'leaves.4k', ret: 3 },
];

test('a text cell pushed again stores what the same row as CSV cells stores', () => {
  const objects = new TraceBuilder(64);
  const cells = new TraceBuilder(64);
  // Three rounds: the first parses each text, the others take it from the memo.
  for (let round = 0; round < 3; round++) {
    for (const row of ROWS) {
      objects.push(row);
      cells.pushCells(rowCells(row), cells.rowCount + 1);
    }
  }
  assert.deepEqual(objects.finish(), cells.finish());
});

test('a text that fails is refused each time with the same error, and the builder goes on', () => {
  const b = new TraceBuilder(8);
  const bad: TraceRow = { op: 'write', vcpu: 0, gpa: 0n, size: 4096n, flags: 'privat', ret: 'ok' };
  for (let k = 0; k < 2; k++) assert.throws(() => b.push(bad), /unknown flags name 'privat' for op write/);
  assert.throws(() => b.push({ op: 'read', vcpu: 0, gpa: 0n, size: 4096n, ret: 'okay' }), /'okay' is not a valid ret/);
  b.push({ op: 'write', vcpu: 0, gpa: 0n, size: 4096n, flags: 'private', ret: 'ok' });
  assert.equal(b.rowCount, 1);
});
