// Vm.accessRange() accounts an access row per leaf (a hit on a 2M/1G leaf takes the rest of the leaf's
// pages in bulk, a 4K hit runs on along its table). This property test holds it to the page-by-page
// loop it short-cuts: two Vms get the same random memslots, backings (4K, THP, hugetlb), dirty-log
// toggles, dirty-log reads, unmaps and access rows; one replays each row with accessRange(), the other
// with one access() per page stopping at the first exit. Outcomes, every counter and the table must
// stay identical, under x86 with and without PML and under arm64.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BACKING_ANON, BACKING_HUGETLB_2M, BACKING_THP } from '../../src/core/hostmm.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, OUTCOME_OK } from '../../src/core/outcome.js';
import type { Vm } from '../../src/core/vm.js';
import { newVm } from './vm-helpers.js';

const HVA_PAGE = 0x7f0000000; // 2M and 1G aligned
const PROFILES = ['x86-tdp', 'x86-tdp@6.12,pml=off,slot-zap-all=off', 'arm64-s2'];

type Op =
  | { op: 'row'; gfn: number; pages: number; kind: number; vcpu: number }
  | { op: 'reflag'; id: number; flags: number }
  | { op: 'dirty_get'; id: number }
  | { op: 'unmap_hva'; hvaPage: number; pages: number };

const SLOTS = [
  { id: 0, gpaPage: 0, pages: 1792, hvaPage: 0 },
  { id: 1, gpaPage: 4096, pages: 1792, hvaPage: 2304 },
  { id: 2, gpaPage: 6400, pages: 768, hvaPage: 1280 },
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    op: fc.constant('row' as const),
    // Rows that start anywhere, past slot ends and holes included.
    gfn: fc.integer({ min: 0, max: 8191 }),
    pages: fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 2048 })),
    kind: fc.constantFrom(ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_WRITE, ACCESS_EXEC),
    vcpu: fc.integer({ min: 0, max: 1 }),
  }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('reflag' as const), id: fc.integer({ min: 0, max: 2 }), flags: fc.constantFrom(0, 1, 2) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dirty_get' as const), id: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap_hva' as const), hvaPage: fc.integer({ min: 0, max: 4095 }), pages: fc.integer({ min: 1, max: 1024 }) }) },
);
const backingArb = fc.array(fc.constantFrom(BACKING_ANON, BACKING_ANON | BACKING_THP, BACKING_HUGETLB_2M), { minLength: 8, maxLength: 8 });

function pageByPage(vm: Vm, row: Extract<Op, { op: 'row' }>): number {
  for (let p = 0; p < row.pages; p++) {
    const out = vm.access(row.vcpu, row.gfn + p, row.kind, 0);
    if (out !== OUTCOME_OK) return out;
  }
  return OUTCOME_OK;
}

function apply(vm: Vm, o: Op, perRow: (vm: Vm, row: Extract<Op, { op: 'row' }>) => number): number {
  if (o.op === 'row') return perRow(vm, o);
  if (o.op === 'reflag') {
    const s = SLOTS[o.id]!;
    return vm.setUserMemoryRegion2(s.id, o.flags, BigInt(s.gpaPage) << 12n, BigInt(s.pages) << 12n, BigInt(HVA_PAGE + s.hvaPage) << 12n, -1, 0n);
  }
  if (o.op === 'dirty_get') return vm.getDirtyLog(o.id);
  vm.unmapHva(BigInt(HVA_PAGE + o.hvaPage) << 12n, BigInt(o.pages) << 12n);
  return 0;
}

describe('Vm.accessRange() against one access() per page', () => {
  for (const profile of PROFILES) it(`gives identical outcomes, counters and tables under ${profile}`, () => {
    fc.assert(
      fc.property(backingArb, fc.array(opArb, { minLength: 10, maxLength: 60 }), (backings, ops) => {
        const bulk = newVm(profile);
        const paged = newVm(profile);
        for (const vm of [bulk, paged]) {
          backings.forEach((kind, i) => vm.setBacking(BigInt(HVA_PAGE + i * 512) << 12n, 0x200000n, kind));
          for (const s of SLOTS) apply(vm, { op: 'reflag', id: s.id, flags: 0 }, pageByPage);
        }
        ops.forEach((o, step) => {
          const got = apply(bulk, o, (vm, row) => vm.accessRange(row.vcpu, row.gfn, row.pages, row.kind, 0));
          const want = apply(paged, o, pageByPage);
          assert.equal(got, want, `step ${step}: ${JSON.stringify(o)}`);
          assert.deepEqual(bulk.finish(), paged.finish(), `counters after step ${step}: ${JSON.stringify(o)}`);
        });
        assert.deepEqual(bulk.stage2.pool, paged.stage2.pool);
      }),
      { numRuns: 150, seed: 20261201 },
    );
  });
});
