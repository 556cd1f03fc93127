import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { higherIsBetter, metricKind, unitOf } from '../../src/report/units.js';

describe('metric units and directions', () => {
  it('spells the unit of every kind of metric the suite and the micro-benchmarks produce', () => {
    assert.deepEqual(
      ['faults', 'mapped.2m', 'conv.zapped_pages.p50', 'time.replay_ms', 'time.conversion_p99_ns', 'rate.events_per_s',
        'rate.faults_per_s', 'rate.load_mb_per_s', 'micro.fault_4k.ns_per_op', 'micro.fault_4k.ops_per_s'].map(unitOf),
      ['count', 'bytes', 'count', 'ms', 'ns', 'events/s', 'faults/s', 'MB/s', 'ns/op', 'ops/s'],
    );
  });

  it('tells modeled from timing metrics', () => {
    assert.deepEqual(['faults', 'conv.x.max', 'iotlb.pinned', 'time.load_ms', 'rate.events_per_s', 'micro.zap.ns_per_op'].map(metricKind),
      ['modeled', 'modeled', 'modeled', 'timing', 'timing', 'timing']);
  });

  it('knows that a higher rate is better and a longer time is worse', () => {
    assert.deepEqual(['rate.events_per_s', 'micro.zap.ops_per_s', 'time.replay_ms', 'micro.zap.ns_per_op'].map(higherIsBetter), [true, true, false, false]);
  });
});
