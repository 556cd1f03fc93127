// RangeMap: runs of page numbers with a value, checked against a page-by-page reference.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import { MemoryAttributes } from '../../src/core/attributes.js';
import { RangeMap } from '../../src/core/range-map.js';

describe('RangeMap', () => {
  it('coalesces touching runs of one value and keeps different values apart', () => {
    const m = new RangeMap();
    m.set(0, 10, 1);
    m.set(10, 20, 1);
    m.set(20, 30, 2);
    assert.equal(m.count, 2);
    assert.deepEqual([m.starts[0], m.ends[0], m.starts[1], m.ends[1]], [0, 20, 20, 30]);
    m.set(5, 25, 0);
    assert.deepEqual([m.count, m.get(4), m.get(5), m.get(24), m.get(25)], [2, 1, 0, 0, 2]);
  });

  it('classify() names the one value of a range, or -1 when mixed', () => {
    const m = new RangeMap();
    m.set(512, 1024, 1);
    assert.deepEqual([m.classify(0, 512), m.classify(512, 1024), m.classify(0, 1024), m.classify(1023, 1025)], [0, 1, -1, -1]);
  });

  it('holds runs near 2^52 exactly (a 64-bit gpa >> 12)', () => {
    const m = new RangeMap();
    const top = 2 ** 52;
    m.set(top - 2, top, 1);
    assert.deepEqual([m.get(top - 3), m.get(top - 2), m.get(top - 1)], [0, 1, 1]);
  });

  it('agrees with a page-by-page reference on random set sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(200), fc.nat(40), fc.nat(3)), { maxLength: 60 }),
        fc.array(fc.tuple(fc.nat(240), fc.nat(40)), { maxLength: 20 }),
        (sets, probes) => {
          const m = new RangeMap();
          const ref = new Uint8Array(260);
          for (const [start, len, value] of sets) {
            m.set(start, start + len, value);
            ref.fill(value, start, start + len);
          }
          for (let p = 0; p < 260; p++) assert.equal(m.get(p), ref[p], `page ${p}`);
          for (const [start, len] of probes) {
            const slice = ref.subarray(start, start + len + 1);
            const uniform = slice.every((v) => v === slice[0]);
            assert.equal(m.classify(start, start + len + 1), uniform ? slice[0] : -1);
          }
          // Canonical form: sorted, disjoint, no touching runs of one value.
          for (let i = 1; i < m.count; i++) {
            assert.ok(m.ends[i - 1]! <= m.starts[i]!);
            assert.ok(!(m.ends[i - 1] === m.starts[i] && m.values[i - 1] === m.values[i]));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('MemoryAttributes mixed tracking', () => {
  it('a 2M range is mixed while any of its gfns differs, at 2M and at 1G, and uniform again after', () => {
    const a = new MemoryAttributes();
    a.set(0, 512 * 512, true);
    a.set(1000, 1001, false);
    assert.deepEqual([a.isMixed(1000, 1), a.isMixed(1000, 2), a.isMixed(0, 1), a.isMixed(2048, 1)], [true, true, false, false]);
    a.set(1000, 1001, true);
    assert.deepEqual([a.isMixed(1000, 1), a.isMixed(1000, 2)], [false, false]);
  });
});
