// The per-op counters the time estimates price: memslot changes with the mappings they zap or
// write-protect, dirty-log calls with the pages they harvest, conversions with their pages, punches.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../../src/core/abi.js';
import { ACCESS_WRITE } from '../../src/core/outcome.js';
import { addSlot, gfn, KiB4, metrics, newVm } from './vm-helpers.js';

const HVA = 0x7f0000000000n;
const GPA = 0x100000000n;
const NAMES = ['memslot.creates', 'memslot.deletes', 'memslot.moves', 'memslot.flag_changes', 'memslot.zaps', 'memslot.wrprots', 'dirty.gets', 'dirty.harvested'] as const;

// With Intel PML (x86-tdp's default) enabling logging clears D bits instead of write-protecting 4K
// leaves (docs/kvm-rules.md, x86.pml): no write-protections to count.
for (const [profile, wrprots] of [['x86-tdp,pml=off', 10], ['x86-tdp', 0]] as const) test(`memslot changes and dirty-log calls are counted with the mappings they touch (${profile})`, () => {
  const vm = newVm(profile);
  vm.setBacking(HVA, 64n * KiB4, 1);
  addSlot(vm, 1, GPA, 64n * KiB4, HVA);
  for (let p = 0; p < 10; p++) vm.access(0, gfn(GPA) + p, ACCESS_WRITE, 0);
  assert.equal(vm.setUserMemoryRegion2(1, KVM_MEM_LOG_DIRTY_PAGES, GPA, 64n * KiB4, HVA, -1, 0n), 0);
  for (let p = 0; p < 4; p++) vm.access(0, gfn(GPA) + p, ACCESS_WRITE, 0);
  assert.equal(vm.getDirtyLog(1), 4);
  assert.equal(vm.getDirtyLog(7), -2); // ENOENT: no such slot, not a counted call
  assert.equal(vm.setUserMemoryRegion2(1, KVM_MEM_LOG_DIRTY_PAGES, GPA, 64n * KiB4, HVA, -1, 0n), 0); // no change
  assert.equal(vm.setUserMemoryRegion2(1, 0, GPA, 0n, HVA, -1, 0n), 0);
  assert.deepEqual(metrics(vm, NAMES), {
    'memslot.creates': 1,
    'memslot.deletes': 1,
    'memslot.moves': 0,
    'memslot.flag_changes': 1,
    'memslot.zaps': 10,
    'memslot.wrprots': wrprots,
    'dirty.gets': 1,
    'dirty.harvested': 4,
  });
});
