// estimate.*: counts x costs by cause, with what the table cannot price counted apart.

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { ProfileCosts } from '../../src/estimate/costs.js';
import { ESTIMATE_METRICS, estimateMetrics, recorderGuestMs } from '../../src/estimate/estimate.js';

const COSTS: ProfileCosts = {
  fault_4k: { ns: 2000 },
  fault_2m: { ns: 100_000 },
  wp_fault: { ns: 500 },
  uffd_roundtrip: { ns: 30_000 },
  dirty_log_slot: { ns: 1000 },
  dirty_log_page: { ns: 20 },
  memslot_create: { ns: 50_000 },
  memslot_delete: { ns: 40_000 },
  memslot_flags: { ns: 30_000 },
  memslot_zap: { ns: 100 },
  memslot_wrprot: { ns: 10 },
  gmem_punch: { ns: 1_000_000 },
  gmem_punch_page: { ns: 100 },
  run_roundtrip: { ns: 5000 },
};

describe('estimateMetrics', () => {
  it('prices each cause from its counts, in ms', () => {
    const est = estimateMetrics(
      {
        'leaves.4k': 1000,
        'leaves.2m': 10,
        'faults.wp': 200,
        'uffd.faults': 3,
        'dirty.gets': 4,
        'dirty.harvested': 500,
        'memslot.creates': 2,
        'memslot.deletes': 1,
        'memslot.flag_changes': 2,
        'memslot.zaps': 300,
        'memslot.wrprots': 1000,
        'gmem.punches': 1,
        'gmem.punched_pages': 11,
        faults: 999_999, // not a priced counter: ignored
      },
      COSTS,
    );
    assert.deepEqual(Object.keys(est).sort(), [...ESTIMATE_METRICS].sort());
    assert.equal(est['estimate.faults_ms'], (1000 * 2000 + 10 * 100_000 + 200 * 500 + 3 * 30_000) / 1e6);
    assert.equal(est['estimate.dirty_log_ms'], (4 * 1000 + 500 * 20) / 1e6);
    assert.equal(est['estimate.memslots_ms'], (2 * 50_000 + 40_000 + 2 * 30_000 + 300 * 100 + 1000 * 10) / 1e6);
    assert.equal(est['estimate.conversions_ms'], (1_000_000 + 10 * 100) / 1e6); // the call covers its first page
    const causes = ['faults', 'dirty_log', 'memslots', 'conversions'].reduce((s, c) => s + est[`estimate.${c}_ms`]!, 0);
    assert.ok(Math.abs(est['estimate.total_ms']! - causes) < 1e-9);
    assert.equal(est['estimate.unpriced'], 0);
  });

  it('counts events the table has no price for instead of guessing one', () => {
    const est = estimateMetrics({ 'leaves.1g': 2, 'memslot.moves': 1, conversions: 5, 'conversions.pages': 80, 'leaves.4k': 1 }, COSTS);
    assert.equal(est['estimate.unpriced'], 2 + 1 + 5 + (80 - 5)); // pages beyond each call's first
    assert.equal(est['estimate.conversions_ms'], 0);
    assert.equal(est['estimate.total_ms'], 0.002);
  });

  it('prices a recorded run as one KVM_RUN per access plus its faults', () => {
    assert.equal(recorderGuestMs({ accesses: 100, 'leaves.4k': 100 }, COSTS), (100 * 5000 + 100 * 2000) / 1e6);
    assert.equal(recorderGuestMs({ accesses: 1 }, { fault_4k: { ns: 1 } }), undefined);
  });
});
