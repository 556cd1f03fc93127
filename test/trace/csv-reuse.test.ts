// A CSV read whose consumer hands each chunk back (`validate`, ChunkOptions.reuse): the next
// chunk fills the same buffer, and must hold exactly what a fresh buffer would, a zero in every column
// a row does not have included (readers take an absent field as 0).

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { COLUMN_LAYOUT } from '../../src/trace/chunk.js';
import { crc32 } from '../../src/trace/crc32.js';
import { CsvTraceParser, HEADER_LINE } from '../../src/trace/csv.js';
import { openTrace } from '../../src/trace/io.js';
import type { TraceChunk } from '../../src/trace/schema.js';
import { tempDir } from '../helpers/temp.js';

/** Data lines of different kinds, each with its own set of columns; most are read in one pass (plain). */
const LINES = [
  'memslot,,0x100000000,0x400000000,1,0,0x7f0000000000,,,,0',
  'write,3,0x100000000,0x1000,,,,,,,ok',
  'dirty_get,,,,1,,,,,,',
  'read,1,4096,8192,,,,,,,',
  'memslot,,0x0,0x200000,2,4,0x7f0000200000,1,0x200000,,0',
  'attrs,,0x100001000,0x1000,,0x0,,,,0x8,0',
  'expect,,,,,faults,,,,,3',
  // Symbolic cells: read cell by cell, not in one pass.
  'backing,,,0x400000000,,anon,0x7f0000000000,,,,',
  'uffd,,,0x100000000,,page,0x7f0100000000,,,,',
  // A bad line: nothing of it may stay behind either.
  'write,2,0x2000,0x3000,,,,,,,bogus',
];

/** Every column of a chunk's rows, its side tables and its place: what a consumer may read of it. */
function snapshot(c: TraceChunk): unknown {
  const columns = COLUMN_LAYOUT.map(([name]) => Array.from((c[name] as Uint32Array).subarray(0, c.length)));
  return { columns, verbatim: [...c.verbatim], names: [...c.names], firstRow: c.firstRow, length: c.length };
}

/** The chunks of a CSV file of `lines`, read from bytes in chunks of 3 rows, as each arrives. */
function snapshots(lines: readonly string[], reuse: boolean): { chunks: unknown[]; errors: string[] } {
  const chunks: unknown[] = [];
  const parser = new CsvTraceParser({ file: 'f.csv', chunkRows: 3, collectErrors: true, reuse, onChunk: (c) => chunks.push(snapshot(c)) });
  for (const text of ['# s2bench trace v1', HEADER_LINE, ...lines]) {
    const bytes = Buffer.from(text);
    parser.feedLine(bytes, 0, bytes.length);
  }
  parser.finish();
  return { chunks, errors: parser.errors.map((e) => e.message) };
}

test('rows of alternating kinds read into reused chunks hold what fresh chunks hold', () => {
  const alternating = Array.from({ length: 40 }, (_, k) => LINES[k % LINES.length]!);
  const fresh = snapshots(alternating, false);
  assert.ok(fresh.chunks.length > 10 && fresh.errors.length > 0);
  assert.deepEqual(snapshots(alternating, true), fresh);
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...LINES), { maxLength: 30 }), (lines) => {
      assert.deepEqual(snapshots(lines, true), snapshots(lines, false));
    }),
    { numRuns: 300 },
  );
});

test('openTrace(csv).chunks({ reuse: true }) fills chunks into handed-back buffers, with the rows of a plain read', async () => {
  // Chunks of 64K rows over a file of several 4 MB read blocks: chunks are handed out (and back) while
  // later ones are built.
  const lines = Array.from({ length: 400_000 }, (_, k) => LINES[k % LINES.length]!).filter((line) => !line.endsWith('bogus'));
  const path = join(await tempDir('csv-reuse'), 't.csv');
  await writeFile(path, ['# s2bench trace v1', HEADER_LINE, ...lines, ''].join('\n'));
  const read = async (reuse: boolean): Promise<{ chunks: string[]; buffers: number }> => {
    const chunks: string[] = [];
    const buffers = new Set<ArrayBuffer>();
    for await (const chunk of (await openTrace(path)).chunks({ reuse })) {
      chunks.push(fingerprint(chunk));
      buffers.add(chunk.buffer);
    }
    return { chunks, buffers: buffers.size };
  };
  const plain = await read(false);
  const reused = await read(true);
  assert.ok(plain.chunks.length >= 5 && plain.buffers === plain.chunks.length);
  assert.ok(reused.buffers < plain.chunks.length, `${reused.buffers} buffers for ${plain.chunks.length} chunks`);
  assert.deepEqual(reused.chunks, plain.chunks);
});

/** A chunk's place, side tables and a checksum of each column's rows (its snapshot, but short). */
function fingerprint(c: TraceChunk): string {
  const columns = COLUMN_LAYOUT.map(([name]) => {
    const column = (c[name] as Uint32Array).subarray(0, c.length);
    return crc32(new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
  });
  return JSON.stringify({ columns, verbatim: [...c.verbatim], names: [...c.names], firstRow: c.firstRow, length: c.length });
}
