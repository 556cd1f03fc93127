// Differential property test: random sequences of memslot ioctls, backings, guest accesses, dirty-log
// reads and host invalidations go through the core Vm and through the simple reference model
// (./reference-model.ts); every outcome and every counter must be identical.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BACKING_ANON, BACKING_HUGETLB_2M, BACKING_THP } from '../../src/core/hostmm.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../src/core/outcome.js';
import { ReferenceVm } from '../../bench/reference-model.js';
import { metrics, newVm } from './vm-helpers.js';

const HVA_PAGE = 0x7f0000000; // hva page number of the host area (2M and 1G aligned)
const COMPARED = [
  'faults',
  'faults.fixed',
  'faults.spurious',
  'faults.wp',
  'exits.mmio',
  'leaves.4k',
  'leaves.2m',
  'leaves.1g',
  'mapped.4k',
  'mapped.2m',
  'mapped.1g',
  'splits',
  'zaps',
  'dirty.pages',
  'recovered',
  'faults.cow',
] as const;

/**
 * Profiles the comparison runs under, each with the reference model's switches for the same kernel
 * rules (docs/kvm-rules.md): the newest kernel on Intel (zap-all, in-place recovery, PML, a write to
 * the huge zero page allocates a THP), and 6.12 on AMD with the SLOT_ZAP_ALL quirk off (per-slot zap,
 * zap-collapsible, write protection, the huge zero page split to 4K on a write).
 */
const PROFILES = [
  { profile: 'x86-tdp', rules: { zapAll: true, recover: true, pml: true, hugeZeroThp: true } },
  { profile: 'x86-tdp@6.12,pml=off,slot-zap-all=off', rules: { zapAll: false, recover: false, pml: false, hugeZeroThp: false } },
] as const;

type Op =
  | { op: 'memslot'; id: number; flags: number; gpaPage: number; pages: number; hvaPage: number }
  | { op: 'access'; gfn: number; write: boolean }
  | { op: 'sweep'; gfn: number; write: boolean; stride: number }
  | { op: 'reflag'; id: number; flags: number; move: boolean }
  | { op: 'dirty_get'; id: number }
  | { op: 'unmap_hva'; hvaPage: number; pages: number }
  | { op: 'host'; hvaPage: number; pages: number; write: boolean };

const quarter = (max: number) => fc.integer({ min: 0, max }).map((n) => n * 256);
const nearby = fc.tuple(quarter(23), fc.integer({ min: 0, max: 3 })).map(([q, k]) => q + k);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('memslot' as const),
    id: fc.integer({ min: 0, max: 3 }),
    flags: fc.constantFrom(0, 0, 1, 2, 3, 8),
    gpaPage: quarter(24),
    pages: fc.constantFrom(0, 256, 512, 1024, 1536, 2048),
    hvaPage: quarter(8),
  }),
  fc.record({ op: fc.constant('access' as const), gfn: fc.integer({ min: 0, max: 8191 }), write: fc.boolean() }),
  // Accesses that land on the same few pages, so that later writes meet earlier mappings.
  fc.record({ op: fc.constant('access' as const), gfn: nearby, write: fc.boolean() }),
  fc.record({ op: fc.constant('access' as const), gfn: nearby, write: fc.boolean() }),
  // The same slot again with other flags (toggling dirty logging) or moved.
  fc.record({
    op: fc.constant('reflag' as const),
    id: fc.integer({ min: 0, max: 3 }),
    flags: fc.constantFrom(0, 1, 1, 2),
    move: fc.boolean(),
  }),
  // Stride 1 walks fresh pages in order (the host's write cursor), stride 3 skips about.
  fc.record({ op: fc.constant('sweep' as const), gfn: quarter(30), write: fc.boolean(), stride: fc.constantFrom(1, 3) }),
  fc.record({ op: fc.constant('dirty_get' as const), id: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('unmap_hva' as const), hvaPage: fc.integer({ min: 0, max: 4095 }), pages: fc.integer({ min: 1, max: 1024 }) }),
  // The VMM touching guest memory: populates host pages, copies zero pages.
  fc.record({ op: fc.constant('host' as const), hvaPage: fc.integer({ min: 0, max: 4095 }), pages: fc.integer({ min: 1, max: 600 }), write: fc.boolean() }),
);
// Some runs with 4K backing only: the host's write cursor works only while no backing is huge.
const backingArb = fc.oneof(
  fc.array(fc.constantFrom(BACKING_ANON, BACKING_ANON | BACKING_THP, BACKING_HUGETLB_2M), { minLength: 8, maxLength: 8 }),
  fc.constant(new Array<number>(8).fill(BACKING_ANON)),
);

describe('core Vm against the reference model', () => {
  for (const { profile, rules } of PROFILES) it(`gives identical outcomes and counters for random memslot, access, dirty-log, unmap and host access sequences under ${profile}`, () => {
    fc.assert(
      fc.property(backingArb, fc.constantFrom(0, 1), fc.array(opArb, { minLength: 20, maxLength: 80 }), (backings, log0, ops) => {
        const vm = newVm(profile);
        const ref = new ReferenceVm(rules);
        backings.forEach((kind, i) => {
          vm.setBacking(BigInt(HVA_PAGE + i * 512) << 12n, 0x200000n, kind);
          ref.setBacking(HVA_PAGE + i * 512, 512, kind);
        });
        // Slots to start from: 2M-congruent with their hva or not, starting or ending inside a 2M range.
        const start: Op[] = [
          { op: 'memslot', id: 0, flags: log0, gpaPage: 0, pages: 1792, hvaPage: 0 },
          { op: 'memslot', id: 1, flags: 0, gpaPage: 4096, pages: 1792, hvaPage: 2304 },
          { op: 'memslot', id: 2, flags: 0, gpaPage: 6400, pages: 768, hvaPage: 1280 },
        ];
        [...start, ...ops].forEach((o, step) => {
          let got: number;
          let want: number;
          if (o.op === 'memslot') {
            const hva = HVA_PAGE + o.hvaPage;
            got = vm.setUserMemoryRegion2(o.id, o.flags, BigInt(o.gpaPage) << 12n, BigInt(o.pages) << 12n, BigInt(hva) << 12n, -1, 0n);
            want = ref.setUserMemoryRegion(o.id, o.flags, o.gpaPage * 4096, o.pages * 4096, hva * 4096);
          } else if (o.op === 'reflag') {
            const slot = ref.slots.get(o.id);
            if (slot === undefined) return;
            const base = o.move ? (slot.base + 4096) % 8192 : slot.base;
            const args = [o.id, o.flags, base * 4096, slot.npages * 4096, slot.hva * 4096] as const;
            got = vm.setUserMemoryRegion2(args[0], args[1], BigInt(args[2]), BigInt(args[3]), BigInt(args[4]), -1, 0n);
            want = ref.setUserMemoryRegion(...args);
          } else if (o.op === 'access') {
            const kind = o.write ? ACCESS_WRITE : ACCESS_READ;
            got = vm.access(0, o.gfn, kind, 0);
            want = ref.access(o.gfn, kind);
          } else if (o.op === 'sweep') {
            const kind = o.write ? ACCESS_WRITE : ACCESS_READ;
            got = 0;
            want = 0;
            for (let g = o.gfn; g < o.gfn + 600; g += o.stride) {
              got = got * 7 + vm.access(1, g, kind, 0);
              want = want * 7 + ref.access(g, kind);
            }
          } else if (o.op === 'dirty_get') {
            got = vm.getDirtyLog(o.id);
            want = ref.getDirtyLog(o.id);
          } else if (o.op === 'host') {
            got = vm.hostAccess(BigInt(HVA_PAGE + o.hvaPage) << 12n, BigInt(o.pages) << 12n, o.write);
            ref.hostAccess(HVA_PAGE + o.hvaPage, o.pages, o.write);
            want = 0;
          } else {
            vm.unmapHva(BigInt(HVA_PAGE + o.hvaPage) << 12n, BigInt(o.pages) << 12n);
            ref.unmapHva(HVA_PAGE + o.hvaPage, o.pages);
            got = want = 0;
          }
          assert.equal(got, want, `step ${step}: ${JSON.stringify(o)}`);
          assert.deepEqual(metrics(vm, COMPARED), ref.counters(), `counters after step ${step}: ${JSON.stringify(o)}`);
        });
      }),
      { numRuns: 120, seed: 20261122 },
    );
  });
});
