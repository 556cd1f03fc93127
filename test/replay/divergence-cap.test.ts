// The divergence list is bounded (issue 18): a replay keeps the first MAX_KEPT_DIVERGENCES divergences
// and behaviour changes and counts every one; sharded replay keeps the same list and count.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProfile } from '../../src/core/profile.js';
import { behaviourChangeCount, divergenceCount, MAX_KEPT_DIVERGENCES, replayTrace } from '../../src/replay/engine.js';
import { replaySharded } from '../../src/replay/sharded.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import type { TraceRow } from '../../src/trace/row.js';
import type { LoadedTrace } from '../../src/trace/io.js';

const GIB = 1n << 30n;

/** A slot, then `diverging` writes that each record a `ret` the model does not answer. */
function divergingTrace(diverging: number, fields: Record<string, string> = {}): LoadedTrace {
  const hva = 0x7f0000000000n;
  const rows: TraceRow[] = [
    { op: 'backing', hva, size: GIB, flags: 'anon' },
    { op: 'memslot', slot: 1, gpa: GIB, size: GIB, hva, ret: 0 },
  ];
  for (let i = 0; i < diverging; i++) rows.push({ op: 'write', vcpu: 0, gpa: GIB + BigInt(i % 262144) * 4096n, ret: 5 });
  const builder = new TraceBuilder(4096, 'diverging.csv');
  rows.forEach((row, i) => builder.push(row, i + 3));
  return { meta: { comments: ['# s2bench trace v1'], fields }, chunks: builder.finish() };
}

test('a replay keeps the first divergences and counts them all', () => {
  const rows = 3 * MAX_KEPT_DIVERGENCES + 7;
  const result = replayTrace(divergingTrace(rows), parseProfile('x86-tdp'));
  assert.equal(divergenceCount(result), rows);
  assert.equal(result.divergences.length, MAX_KEPT_DIVERGENCES);
  assert.deepEqual(
    result.divergences.map((d) => d.line),
    Array.from({ length: MAX_KEPT_DIVERGENCES }, (_, i) => i + 5),
    'the first rows, in order',
  );
});

test('behaviour changes are kept and counted the same way', () => {
  const rows = 2 * MAX_KEPT_DIVERGENCES + 1;
  const result = replayTrace(divergingTrace(rows, { 'recorded-under': 'arm64-s2' }), parseProfile('x86-tdp'));
  assert.equal(behaviourChangeCount(result), rows);
  assert.equal(result.behaviourChanges.length, MAX_KEPT_DIVERGENCES);
  assert.equal(divergenceCount(result), 0);
  assert.equal(result.divergences.length, 0);
});

test('sharded replay keeps the same list and count as the single-thread replay', async () => {
  // Below the cap per shard but above it in all: the merge must cut the list to the single run's.
  for (const [rows, fields] of [
    [MAX_KEPT_DIVERGENCES + MAX_KEPT_DIVERGENCES / 2, {}],
    [MAX_KEPT_DIVERGENCES + MAX_KEPT_DIVERGENCES / 2, { 'recorded-under': 'arm64-s2' }],
  ] as const) {
    const trace = divergingTrace(rows, fields);
    const whole = replayTrace(trace, parseProfile('x86-tdp'));
    const sharded = await replaySharded(trace, 2, { profile: parseProfile('x86-tdp'), workers: 0 });
    assert.equal(sharded.shards, 2);
    assert.deepEqual(sharded.counters, whole.counters);
    assert.deepEqual(sharded.divergences, whole.divergences);
    assert.deepEqual(sharded.behaviourChanges, whole.behaviourChanges);
  }
  // Past the cap in a shard: no row diverges in more than one shard here, so the count stays exact.
  const rows = 5 * MAX_KEPT_DIVERGENCES;
  const trace = divergingTrace(rows);
  const sharded = await replaySharded(trace, 2, { profile: parseProfile('x86-tdp'), workers: 0 });
  assert.equal(divergenceCount(sharded), rows);
  assert.equal(sharded.divergences.length, MAX_KEPT_DIVERGENCES);
});
