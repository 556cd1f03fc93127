// ConversionLog: per-conversion records and their nearest-rank distributions.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConversionLog, nearestRank, type ConversionCost } from '../../src/core/conversions.js';

function cost(zaps: number, splits: number, ns: number): ConversionCost {
  return { pages: 1, zaps4k: zaps, zaps2m: 0, zaps1g: 0, splits, merges: 0, tablesFreed: 0, tlbFull: zaps > 0 ? 1 : 0, tlbRange: 0, ns };
}

describe('ConversionLog', () => {
  it('nearest-rank percentiles are values that occurred', () => {
    const v = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual([nearestRank(v, 0.5), nearestRank(v, 0.99), nearestRank(v, 0.1)], [5, 10, 1]);
  });

  it('keeps every record past its initial capacity and reports p50/p99/max', () => {
    const log = new ConversionLog();
    for (let i = 1; i <= 200; i++) log.record(cost(i % 4, i === 200 ? 513 : 1, i * 10));
    assert.equal(log.count, 200);
    assert.deepEqual(log.at(199), cost(0, 513, 2000));
    const { modeled, timing } = log.stats();
    assert.deepEqual(
      [modeled['conv.zaps.p50'], modeled['conv.zaps.max'], modeled['conv.splits.p99'], modeled['conv.splits.max'], modeled['conv.flushes.p50']],
      [1, 3, 1, 513, 1], // zaps: 50 each of 0..3, so the 100th smallest is 1
    );
    assert.deepEqual(timing, { 'time.conversion_p50_ns': 1000, 'time.conversion_p99_ns': 1980, 'time.conversion_max_ns': 2000 });
  });

  it('reports nothing when there was no conversion', () => {
    assert.deepEqual(new ConversionLog().stats(), { modeled: {}, timing: {} });
  });
});
