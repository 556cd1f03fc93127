import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { findGenerator } from '../../src/trace/generators/index.js';
import { parseProfile } from '../../src/core/profile.js';

test('boot traces keep their known-by-construction counts at every RAM size (no host-address overlap)', () => {
  for (const ramMiB of [64, 324, 512, 3072]) {
    const { meta, rows } = findGenerator('boot')!.generate({ ramMiB, frames: 2 });
    const builder = new TraceBuilder();
    for (const row of rows) builder.push(row);
    const result = replayTrace({ meta, chunks: builder.finish() }, parseProfile('x86-tdp'));
    assert.deepEqual(result.divergences, [], `${ramMiB} MiB`);
    assert.equal(result.counters['leaves.2m'], ramMiB / 2 - 1, `${ramMiB} MiB`);
  }
});
