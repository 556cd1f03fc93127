// Reading an .s2t file with `reuse` (ChunkOptions): every chunk arrives over the same buffer,
// with the same rows as a plain read, including the zeros of columns a chunk leaves out.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { COLUMN_LAYOUT } from '../../src/trace/chunk.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { openTrace, writeTrace } from '../../src/trace/io.js';
import type { TraceChunk } from '../../src/trace/schema.js';
import { tempDir } from '../helpers/temp.js';

/** Each chunk's columns (up to its length) as plain arrays, and its names and verbatim cells. */
function snapshot(chunk: TraceChunk): unknown {
  const columns = COLUMN_LAYOUT.map(([name]) => Array.from((chunk[name] as ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }).subarray(0, chunk.length)));
  return { firstRow: chunk.firstRow, length: chunk.length, columns, names: [...chunk.names], verbatim: [...chunk.verbatim] };
}

test('a reused-buffer read yields the rows of a plain read, over one buffer', async () => {
  const builder = new TraceBuilder(4, 'reuse.csv');
  // Chunk 0 has hva, slot and ret cells; chunks 1.. are accesses alone (those columns left out), so a
  // reused buffer must read zeros there, not chunk 0's values.
  builder.push({ op: 'memslot', slot: 3, gpa: 0n, size: 1n << 30n, hva: 0x7f0000000000n, ret: 0 }, 3);
  builder.push({ op: 'backing', hva: 0x7f0000000000n, size: 1n << 30n, flags: 'thp' }, 4);
  builder.push({ op: 'uffd', hva: 0x7f0000000000n, size: 1n << 30n, flags: 'page', ret: 0 }, 5);
  builder.push({ op: 'expect', flags: 'faults', ret: 0 }, 6);
  for (let i = 0; i < 10; i++) builder.push({ op: i % 2 === 0 ? 'write' : 'read', vcpu: i % 3, gpa: BigInt(i) * 0x201000n }, 7 + i);
  builder.push({ op: 'expect', flags: 'uffd.faults', ret: 10 }, 17);
  const path = join(await tempDir('s2t-reuse'), 't.s2t');
  await writeTrace(path, { comments: ['# s2bench trace v1'], fields: {} }, builder.finish());

  const plain: unknown[] = [];
  for await (const chunk of (await openTrace(path)).chunks()) plain.push(snapshot(chunk));
  const reused: unknown[] = [];
  const buffers = new Set<ArrayBuffer>();
  for await (const chunk of (await openTrace(path)).chunks({ reuse: true })) {
    reused.push(snapshot(chunk));
    if (chunk.length === 4) buffers.add(chunk.buffer);
  }
  assert.ok(plain.length >= 3, `several chunks (${plain.length})`);
  assert.deepEqual(reused, plain);
  assert.equal(buffers.size, 1, 'full chunks share one buffer');
});
