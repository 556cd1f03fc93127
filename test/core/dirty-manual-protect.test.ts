// KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 with KVM_DIRTY_LOG_INITIALLY_SET, and KVM_CLEAR_DIRTY_LOG of only
// the bits the VMM passes (virt/kvm/kvm_main.c kvm_vm_ioctl_enable_cap_generic(),
// kvm_prepare_memory_region(), kvm_clear_dirty_log_protect(); x86 kvm_mmu_slot_apply_flags() and
// kvm_arch_mmu_enable_log_dirty_pt_masked(); arm64 kvm_arch_commit_memory_region() and
// kvm_arch_mmu_enable_log_dirty_pt_masked()).
// docs/kvm-rules.md: common.manual-protect, common.clear-mask, x86.init-set, arm64.clear-span.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRNO, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../src/core/abi.js';
import { BACKING_ANON, BACKING_THP } from '../../src/core/hostmm.js';
import { ACCESS_READ, ACCESS_WRITE } from '../../src/core/outcome.js';
import { MiB2, addSlot, metric, metrics, newVm } from './vm-helpers.js';

const { EINVAL } = ERRNO;
const CAP = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2;
const PROTECT = 1n;
const INIT_SET = 2n;
const HVA = 0x7f0000000000n;

describe('KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2)', () => {
  it('takes PROTECT_ENABLE, with or without INITIALLY_SET, and 0; anything else is EINVAL', () => {
    const vm = newVm();
    assert.equal(vm.enableCap(CAP, 1n, PROTECT), -EINVAL); // cap->flags must be 0
    assert.equal(vm.enableCap(CAP, 0n, INIT_SET), -EINVAL); // INITIALLY_SET needs PROTECT_ENABLE
    assert.equal(vm.enableCap(CAP, 0n, 4n), -EINVAL); // an unknown bit
    assert.equal(vm.enableCap(CAP, 0n, PROTECT | 4n), -EINVAL);
    assert.equal(vm.manualDirtyLogProtect, false);
    assert.equal(vm.enableCap(CAP, 0n, PROTECT | INIT_SET), 0);
    assert.equal(vm.manualDirtyLogProtect, true);
    assert.equal(vm.enableCap(CAP, 0n, 0n), 0); // off again
    assert.equal(vm.manualDirtyLogProtect, false);
    assert.equal(vm.enableCap(7, 0n, 1n), undefined); // a capability the model does not know
  });
});

describe('KVM_DIRTY_LOG_INITIALLY_SET', () => {
  it('a new logging slot reports every page dirty until cleared; writes do not add to them', () => {
    const vm = newVm();
    assert.equal(vm.enableCap(CAP, 0n, PROTECT | INIT_SET), 0);
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_LOG_DIRTY_PAGES);
    assert.equal(vm.getDirtyLog(0), 512);
    vm.access(0, 3, ACCESS_WRITE, 0);
    assert.equal(metric(vm, 'dirty.pages'), 0); // already set
    assert.equal(vm.clearDirtyLog(0, 0n, 128n), 0);
    assert.equal(vm.getDirtyLog(0), 384);
    vm.access(0, 3, ACCESS_WRITE, 0); // protected by the clear: faults and logs again
    assert.equal(vm.getDirtyLog(0), 385);
  });

  it('x86: turning logging on protects and splits nothing; each clear write-protects (and splits) what it clears', () => {
    for (const profile of ['x86-tdp,pml=off', 'x86-tdp,pml=off,eager-split=off']) {
      const vm = newVm(profile);
      assert.equal(vm.enableCap(CAP, 0n, PROTECT | INIT_SET), 0);
      vm.setBacking(HVA, 2n * MiB2, BACKING_ANON | BACKING_THP);
      addSlot(vm, 0, 0n, 2n * MiB2, HVA);
      vm.access(0, 0, ACCESS_WRITE, 0);
      vm.access(0, 512, ACCESS_WRITE, 0);
      assert.equal(metric(vm, 'leaves.2m'), 2);
      const flushes = metric(vm, 'tlb.flushes');
      assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 2n * MiB2, HVA, -1, 0n), 0);
      assert.deepEqual(metrics(vm, ['memslot.wrprots', 'splits', 'tlb.flushes']), { 'memslot.wrprots': 0, splits: 0, 'tlb.flushes': flushes });
      assert.equal(vm.getDirtyLog(0), 1024);
      vm.access(0, 1, ACCESS_WRITE, 0); // the huge leaf is still writable: no fault
      assert.equal(metric(vm, 'faults.wp'), 0);
      // Clear the first 64 pages: the first 2M leaf is protected (split first with eager split); the second is not.
      assert.equal(vm.clearDirtyLog(0, 0n, 64n), 0);
      const eager = !profile.includes('eager-split=off');
      assert.equal(metric(vm, 'splits'), eager ? 1 : 0);
      assert.equal(metric(vm, 'tlb.flushes'), flushes + 1);
      vm.access(0, 513, ACCESS_WRITE, 0);
      assert.equal(metric(vm, 'faults.wp'), 0);
      vm.access(0, 1, ACCESS_WRITE, 0);
      assert.equal(metric(vm, 'faults.wp'), 1);
      assert.equal(vm.getDirtyLog(0), 1024 - 64 + 1);
    }
  });

  it('arm64: logging on protects nothing; a clear write-protects from the first to the last bit of each word', () => {
    const vm = newVm('arm64-s2');
    assert.equal(vm.enableCap(CAP, 0n, PROTECT | INIT_SET), 0);
    addSlot(vm, 0, 0n, MiB2, HVA);
    for (let p = 0; p < 64; p++) vm.access(0, p, ACCESS_WRITE, 0);
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, MiB2, HVA, -1, 0n), 0);
    assert.equal(metric(vm, 'memslot.wrprots'), 0);
    // Pass bits 2 and 5 only: stage2_wp_range() covers pages 2..5, page 3 and 4 included.
    vm.clearDirtyBits(0, 2, 1);
    vm.clearDirtyBits(0, 5, 1);
    assert.equal(vm.clearDirtyLog(0, 0n, 64n, true), 0);
    assert.equal(vm.getDirtyLog(0), 510);
    const before = metric(vm, 'faults');
    vm.access(0, 4, ACCESS_WRITE, 0); // not cleared, but protected by the word's range
    vm.access(0, 6, ACCESS_WRITE, 0); // past the last bit: still writable
    assert.equal(metric(vm, 'faults') - before, 1);
  });

  it('applies to bitmaps made after the cap: one that already exists keeps its bits', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_LOG_DIRTY_PAGES);
    assert.equal(vm.enableCap(CAP, 0n, PROTECT | INIT_SET), 0);
    assert.equal(vm.getDirtyLog(0), 0);
    addSlot(vm, 1, MiB2, MiB2, HVA + MiB2, KVM_MEM_LOG_DIRTY_PAGES);
    assert.equal(vm.getDirtyLog(1), 512);
  });
});

describe('KVM_CLEAR_DIRTY_LOG with the bits the VMM passes', () => {
  it('clears and re-protects only the pages of the runs given, within the range', () => {
    const vm = newVm('x86-tdp,pml=off');
    assert.equal(vm.enableCap(CAP, 0n, PROTECT), 0);
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_LOG_DIRTY_PAGES);
    for (const p of [1, 2, 3, 70, 200]) vm.access(0, p, ACCESS_WRITE, 0);
    assert.equal(vm.getDirtyLog(0), 5);
    vm.clearDirtyBits(0, 2, 2); // pages 2 and 3
    vm.clearDirtyBits(0, 200, 1); // outside the range below: ignored
    assert.equal(vm.clearDirtyLog(0, 0n, 128n, true), 0);
    assert.equal(vm.getDirtyLog(0), 3); // 1, 70, 200 remain
    const faults = metric(vm, 'faults.wp');
    vm.access(0, 1, ACCESS_WRITE, 0); // its bit was not passed: still writable
    vm.access(0, 2, ACCESS_WRITE, 0); // passed: protected again
    assert.equal(metric(vm, 'faults.wp') - faults, 1);
    // A masked clear with no bits clears nothing and does not flush.
    const flushes = metric(vm, 'tlb.flushes');
    assert.equal(vm.clearDirtyLog(0, 0n, 512n, true), 0);
    assert.equal(vm.getDirtyLog(0), 4);
    assert.equal(metric(vm, 'tlb.flushes'), flushes);
    // Bits given before a failing call are dropped with it.
    vm.clearDirtyBits(0, 1, 1);
    assert.equal(vm.clearDirtyLog(0, 1n, 64n, true), -EINVAL);
    assert.equal(vm.clearDirtyLog(0, 0n, 512n, true), 0);
    assert.equal(vm.getDirtyLog(0), 4);
  });

  it('x86: a move that turns logging on protects nothing and flushes no more than the move itself', () => {
    const vm = newVm('x86-tdp,slot-zap-all=off');
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.access(0, 0, ACCESS_WRITE, 0);
    const flushes = metric(vm, 'tlb.flushes');
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 4n * MiB2, MiB2, HVA, -1, 0n), 0);
    assert.deepEqual(metrics(vm, ['memslot.moves', 'memslot.wrprots', 'tlb.flushes']), { 'memslot.moves': 1, 'memslot.wrprots': 0, 'tlb.flushes': flushes + 1 });
  });

  it('x86: logging on a read-only slot write-protects nothing and does not flush', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_READONLY);
    vm.access(0, 0, ACCESS_READ, 0);
    const flushes = metric(vm, 'tlb.flushes');
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_READONLY | KVM_MEM_LOG_DIRTY_PAGES, 0n, MiB2, HVA, -1, 0n), 0);
    assert.equal(metric(vm, 'tlb.flushes'), flushes);
  });
});
