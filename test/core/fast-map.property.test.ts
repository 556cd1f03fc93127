// The fast map path (Stage2Mmu.map: a direct descent resumed from where Stage2.lookup() stopped)
// against the map walker it short-cuts: random sequences of maps at every level, lookups (left behind
// as stale stopping points), zaps and splits over a small gfn space, applied to two tables, one mapping
// through map() and one through the walker alone, for x86's table and arm64's (4-level, and 3-level
// with a concatenated root; blocks in the way broken rather than split). Every result, the pool, the
// leaf counts and every counter must stay identical.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newCounters } from '../../src/core/metrics.js';
import { HOST_MISSING, HostMemory, UFFD_PAGE } from '../../src/core/hostmm.js';
import { PTE_W, PTE_X } from '../../src/core/stage2/pte.js';
import { Stage2 } from '../../src/core/stage2/table.js';
import { Stage2Mmu } from '../../src/core/stage2/visitors.js';

/** Gfns spread over two root entries and a few 1G and 2M regions, so every level is exercised. */
const gfnArb = fc.oneof(
  fc.integer({ min: 0, max: 4 * 262144 }),
  fc.integer({ min: 2 ** 27 - 1024, max: 2 ** 27 + 1024 }),
  // A few gfns drawn often, so that a map() meets the stopping point of an earlier lookup() of its
  // gfn after zaps and splits changed the table under it.
  fc.constantFrom(0, 511, 512, 262144 + 700, 2 ** 27),
);
const opArb = fc.oneof(
  fc.record({
    kind: fc.constant('map' as const),
    gfn: gfnArb,
    level: fc.integer({ min: 0, max: 2 }),
    perms: fc.constantFrom(0, PTE_W, PTE_X, PTE_W | PTE_X),
    // The fault path's order: the hit check's lookup of the same gfn, then map().
    hinted: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('lookup' as const), gfn: gfnArb }),
  fc.record({ kind: fc.constant('zap' as const), gfn: gfnArb, pages: fc.integer({ min: 1, max: 600_000 }) }),
  fc.record({ kind: fc.constant('split' as const), gfn: gfnArb, pages: fc.integer({ min: 1, max: 600_000 }), level: fc.integer({ min: 0, max: 1 }) }),
);

const SHAPES = [
  { name: 'x86, 4 levels', rootLevel: 3, rootTables: 1, breakBlocks: false },
  { name: 'arm64, 4 levels', rootLevel: 3, rootTables: 1, breakBlocks: true },
  { name: 'arm64, 3 levels from a concatenated root', rootLevel: 2, rootTables: 2, breakBlocks: true },
];

for (const shape of SHAPES) {
test(`map() gives what the map walker gives, for any sequence of maps, lookups, zaps and splits (${shape.name})`, () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const fast = new Stage2Mmu(new Stage2(shape.rootLevel, newCounters(), shape.rootTables), shape.breakBlocks);
      const slow = new Stage2Mmu(new Stage2(shape.rootLevel, newCounters(), shape.rootTables), shape.breakBlocks);
      for (const op of ops) {
        if (op.kind === 'map') {
          if (op.hinted) fast.s2.lookup(op.gfn);
          assert.equal(fast.map(op.gfn, op.level, op.perms), slow.walkMap(op.gfn, op.level, op.perms));
        } else if (op.kind === 'lookup') {
          assert.equal(fast.s2.lookup(op.gfn), slow.s2.lookup(op.gfn));
        } else if (op.kind === 'zap') {
          assert.equal(fast.zap(op.gfn, op.gfn + op.pages), slow.zap(op.gfn, op.gfn + op.pages));
        } else {
          assert.equal(fast.split(op.gfn, op.gfn + op.pages, op.level), slow.split(op.gfn, op.gfn + op.pages, op.level));
        }
      }
      assert.deepEqual(fast.s2.pool, slow.s2.pool);
      assert.deepEqual(fast.s2.leaves, slow.s2.leaves);
      assert.deepEqual(fast.s2.counters, slow.s2.counters);
    }),
    { numRuns: 300 },
  );
});
}

test('userfaultfd lookup: the binary search answers as the scan in registration order, overlapping or not', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ start: fc.integer({ min: 0, max: 4000 }), pages: fc.integer({ min: 0, max: 600 }), page: fc.boolean() }), { maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 80 }),
      (regs, faults) => {
        const host = new HostMemory();
        for (const r of regs) host.registerUffd(r.start, r.pages, r.page ? UFFD_PAGE : 0);
        for (const pfn of faults) {
          // The reference: the first registration, in registration order, holding pfn as missing.
          const expected = scan(host, regs, pfn);
          assert.equal(host.uffdMissing(pfn), expected);
          if (expected >= 0) host.uffdFill(expected, pfn);
        }
      },
    ),
    { numRuns: 300 },
  );
});

/** Which registration a linear scan finds, reading populated state through uffdMissing's own fills. */
function scan(host: HostMemory, regs: ReadonlyArray<{ start: number; pages: number }>, pfn: number): number {
  if (host.pageState(pfn) !== HOST_MISSING) return -1;
  for (let i = 0; i < regs.length; i++) {
    const off = pfn - regs[i]!.start;
    if (off >= 0 && off < regs[i]!.pages) return i;
  }
  return -1;
}
