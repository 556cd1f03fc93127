// The micro-benchmark cases (src/microbench): each is named as listed, builds and runs on either
// architecture, and runMicro times only the cases its filter names. No timing is asserted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProfile } from '../../src/core/profile.js';
import { microCases } from '../../src/microbench/micro-cases.js';
import { microJobResult, runMicro } from '../../src/microbench/micro.js';

test('every micro-benchmark case builds under its listed name and runs, on x86 and arm64', () => {
  for (const profile of [parseProfile('x86-tdp'), parseProfile('arm64-s2')]) {
    const entries = microCases(profile);
    assert.equal(new Set(entries.map((e) => e.name)).size, entries.length, 'names are unique');
    for (const entry of entries) {
      const c = entry.build();
      assert.equal(c.name, entry.name);
      assert.ok(c.opsPerCall > 0);
      c.beforeEach?.();
      c.run();
    }
  }
});

test('runMicro times only the cases its filter names, and reports per-op figures for them', async () => {
  const profile = parseProfile('x86-tdp');
  const figures = await runMicro(profile, { timeMs: 5, filter: 'lookup.slots_1' });
  // Names contain the filter: lookup.slots_16 matches too.
  assert.deepEqual(figures.map((f) => f.name), ['lookup.slots_1', 'lookup.slots_16']);
  for (const f of figures) {
    assert.ok(f.nsPerOp > 0 && f.minNsPerOp > 0 && f.minNsPerOp <= f.nsPerOp, JSON.stringify(f));
    assert.ok(f.samples > 0);
  }
  const result = microJobResult(profile, figures);
  assert.equal(result.trace, 'micro');
  assert.equal(result.timing['micro.lookup.slots_16.min_ns'], figures[1]!.minNsPerOp);
});
