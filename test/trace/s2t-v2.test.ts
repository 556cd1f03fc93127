// .s2t version 2: per-column encodings (constant, run-length, each on differences too), optional
// deflate, and version 1 files still read.

import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { findGenerator } from '../../src/trace/generators/index.js';
import { formatTraceText, readTrace, writeTrace } from '../../src/trace/io.js';
import { decodeColumn, encodeColumn, ENC_CONST, ENC_DELTA, ENC_RAW, ENC_RLE } from '../../src/trace/s2t-columns.js';
import { repoPath } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

function roundTrip(bytes: Uint8Array, width: number): [number, Uint8Array] {
  const [tag, data] = encodeColumn(bytes, width);
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  decodeColumn(tag, data, out, width);
  assert.deepEqual(out, bytes);
  return [tag, data];
}

test('every column encoding decodes to the bytes it encoded, whatever the values and width', () => {
  const column = fc.oneof(
    // Runs of few distinct values, steady steps, or anything.
    fc.array(fc.constantFrom(0, 1, 0xffffffff, 7), { minLength: 1, maxLength: 300 }),
    fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 300 })).map(([a, d, n]) => Array.from({ length: n }, (_, i) => (a + i * d) >>> 0)),
    fc.array(fc.nat(), { minLength: 1, maxLength: 300 }),
  );
  fc.assert(
    fc.property(column, fc.constantFrom(1, 2, 4, 8), (values, width) => {
      const words = width === 8 ? Uint32Array.from(values.flatMap((v) => [v, v >>> 3])) : width === 4 ? Uint32Array.from(values) : width === 2 ? Uint16Array.from(values) : Uint8Array.from(values);
      roundTrip(new Uint8Array(words.buffer), width);
    }),
    { numRuns: 400 },
  );
});

test('the encodings chosen: constant, run-length, differences', () => {
  const u32 = (values: number[]): Uint8Array => new Uint8Array(Uint32Array.from(values).buffer);
  assert.equal(roundTrip(u32([5, 5, 5, 5]), 4)[0], ENC_CONST);
  assert.equal(roundTrip(u32([1, 2, 3, 4, 5, 6]), 4)[0], ENC_CONST | ENC_DELTA);
  assert.equal(roundTrip(u32([...Array(20).fill(9), ...Array(20).fill(3)]), 4)[0], ENC_RLE);
  assert.equal(roundTrip(u32([3, 1, 4, 1, 5, 9, 2, 6]), 4)[0], ENC_RAW);
  assert.throws(() => decodeColumn(ENC_RLE, u32([2, 1, 1, 7, 7]), new Uint8Array(12), 4), /run-length column of 2 rows, expected 3/);
});

test('a trace round-trips through .s2t v2, plain and deflated, smaller than v1 columns; v1 files still read', async () => {
  const dir = await tempDir('s2t2');
  const trace = findGenerator('scale')!.generate({ events: 200_000, guestGiB: 4 });
  const chunks = [...trace.chunks!()];
  const text = formatTraceText(trace.meta, chunks);
  const sizes: number[] = [];
  for (const compress of [false, true]) {
    const path = join(dir, `t${compress ? '-z' : ''}.s2t`);
    await writeTrace(path, trace.meta, chunks, { compress });
    const back = await readTrace(path);
    assert.equal(formatTraceText(back.meta, back.chunks), text);
    sizes.push((await stat(path)).size);
  }
  // v1 stored every non-zero column raw: at least op, present, line, vcpu, gpa and size (23 bytes a row).
  assert.ok(sizes[0]! < 200_000 * 23 * 0.5, `v2 size ${sizes[0]}`);
  assert.ok(sizes[1]! < sizes[0]!, `deflated ${sizes[1]} vs ${sizes[0]}`);

  const v1 = await readTrace(repoPath('test', 'fixtures', 's2t-v1', 'dirty-logging.s2t'));
  const csv = await readTrace(repoPath('traces', 'recorded', 'dirty-logging.csv'));
  assert.equal(formatTraceText(v1.meta, v1.chunks), formatTraceText(csv.meta, csv.chunks));
});
