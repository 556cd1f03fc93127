// Generator `conversions`: deterministic, and every row's recorded answer is what the model gives.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { replayTrace } from '../../src/replay/engine.js';
import { TraceBuilder } from '../../src/trace/builder.js';
import { generateConversions, type ConversionsGenOptions } from '../../src/trace/generators/conversions.js';
import { parseProfile } from '../../src/core/profile.js';

function replay(options: Partial<ConversionsGenOptions>, profile = 'x86-tdp,gmem-folio=2m,vm-type=sw-protected') {
  const trace = generateConversions(options);
  const b = new TraceBuilder();
  for (const row of trace.rows) b.push(row);
  return replayTrace({ meta: trace.meta, chunks: b.finish() }, parseProfile(profile), { check: true });
}

describe('generator conversions', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = generateConversions({ seed: 7, rounds: 20 });
    const b = generateConversions({ seed: 7, rounds: 20 });
    const c = generateConversions({ seed: 8, rounds: 20 });
    assert.deepEqual([a.meta, [...a.rows]], [b.meta, [...b.rows]]);
    assert.notDeepEqual([...a.rows], [...c.rows]);
  });

  it('replays with no divergence, and its counts follow from the options', () => {
    const r = replay({ vcpus: 2, size: 4 << 20, rounds: 10, seed: 3 });
    assert.deepEqual(r.divergences, []);
    assert.equal(r.counters['conversions'], 1 + 2 * 2 * 10);
    assert.equal(r.counters['exits.memfault'], 2 * 2 * 10);
    assert.equal(r.counters['conv.zaps.max'], 1, 'a 4K conversion zaps the one leaf mapping it');
  });

  it('replays with no divergence for 2M granularity with punches, under every folio and split policy', () => {
    for (const profile of ['x86-tdp,gmem-folio=4k,vm-type=sw-protected', 'x86-tdp,gmem-folio=2m,gmem-split=4k,vm-type=sw-protected', 'x86-tdp,gmem-folio=1g,vm-type=sw-protected']) {
      const r = replay({ vcpus: 2, size: 8 << 20, granularity: 2 << 20, rounds: 4, punch: true, seed: 5 }, profile);
      assert.deepEqual(r.divergences, [], profile);
    }
  });

  it('rejects a granularity that is not a multiple of 4 KiB or does not divide the size', () => {
    assert.throws(() => generateConversions({ granularity: 6000 }), /granularity must be a multiple of 4096/);
    assert.throws(() => generateConversions({ size: 3 << 20, granularity: 2 << 20 }), /size must be a multiple/);
  });
});
