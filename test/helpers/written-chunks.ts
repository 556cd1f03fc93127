// A generator that writes straight into chunk columns (docs/generators.md) against a plain reference:
// the same events as TraceRow objects, pushed one by one through the builder's object path. The chunks
// must match column for column, side tables and place included, over several chunks.

import assert from 'node:assert/strict';
import { chunksOf } from '../../src/trace/builder.js';
import { COLUMN_LAYOUT } from '../../src/trace/chunk.js';
import { findGenerator, type GeneratorValues } from '../../src/trace/generators/index.js';
import type { TraceRow } from '../../src/trace/row.js';
import type { TraceChunk } from '../../src/trace/schema.js';

/** Every column of a chunk's rows, its side tables and its place. */
function snapshot(c: TraceChunk): unknown {
  const columns = COLUMN_LAYOUT.map(([name]) => Buffer.from((c[name] as Uint8Array).buffer, (c[name] as Uint8Array).byteOffset, (c[name] as Uint8Array).BYTES_PER_ELEMENT * c.length).toString('base64'));
  return { columns, verbatim: [...c.verbatim], names: [...c.names], firstRow: c.firstRow, length: c.length };
}

/** Generator `name` with `values` writes exactly the chunks `reference`'s rows make. */
export function assertWritesReference(name: string, values: GeneratorValues, reference: Iterable<TraceRow>): void {
  const trace = findGenerator(name)!.generate(values);
  const expected = [...chunksOf(reference)].map(snapshot);
  // With reuse, as `gen` takes them: a chunk is looked at before the next is asked for.
  const got: unknown[] = [];
  for (const c of trace.chunks!({ reuse: true })) got.push(snapshot(c));
  assert.ok(expected.length >= 2, `${name}: a test of one chunk would not test the hand-over`);
  assert.equal(got.length, expected.length, `${name} ${JSON.stringify(values)}: chunk count`);
  got.forEach((g, k) => assert.deepEqual(g, expected[k], `${name} ${JSON.stringify(values)}: chunk ${k}`));
}
