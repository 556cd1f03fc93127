// KVM_SET_USER_MEMORY_REGION2 and KVM_GET/CLEAR_DIRTY_LOG: errno for errno as Linux 6.18 answers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERRNO, KVM_MEM_GUEST_MEMFD, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../src/core/abi.js';
import { ACCESS_WRITE } from '../../src/core/outcome.js';
import { MiB2, newVm } from './vm-helpers.js';

const { EINVAL, EEXIST, ENOENT, EBADF, EFAULT } = ERRNO;
const HVA = 0x7f0000000000n;

describe('KVM_SET_USER_MEMORY_REGION2', () => {
  it('rejects bad flags, ids, address spaces, alignment and ranges with EINVAL', () => {
    const vm = newVm();
    const set = (slot: number, flags: number, gpa: bigint, size: bigint, hva: bigint): number =>
      vm.setUserMemoryRegion2(slot, flags, gpa, size, hva, -1, 0n);
    assert.equal(set(0, 0x8, 0n, MiB2, HVA), -EINVAL); // unknown flag
    assert.equal(set(0, KVM_MEM_GUEST_MEMFD | KVM_MEM_READONLY, 0n, MiB2, HVA), -EINVAL);
    assert.equal(set(0, KVM_MEM_GUEST_MEMFD | KVM_MEM_LOG_DIRTY_PAGES, 0n, MiB2, HVA), -EINVAL);
    assert.equal(set(32764, 0, 0n, MiB2, HVA), -EINVAL);
    assert.equal(set(1 << 16, 0, 0n, MiB2, HVA), -EINVAL); // as_id 1: one address space
    assert.equal(set(0, 0, 0x800n, MiB2, HVA), -EINVAL);
    assert.equal(set(0, 0, 0n, 0x1800n, HVA), -EINVAL);
    assert.equal(set(0, 0, 0n, MiB2, HVA + 0x800n), -EINVAL);
    assert.equal(set(0, 0, 0n, MiB2, 0xffff800000000000n), -EINVAL); // not a user address
    assert.equal(set(0, 0, 0n, 0x1000n, 0x7ffffffff000n), -EINVAL); // ends past TASK_SIZE_MAX
    assert.equal(set(0, 0, 0n, 0x1000n, 0x7fffffffe000n), 0); // ends exactly at it
    assert.equal(set(1, 0, 0n, 0x100000000000n, HVA), -EINVAL); // more than KVM_MEM_MAX_NR_PAGES
    assert.equal(set(1, 0, 0xffffffffff000n, 0x2000n, HVA), -EINVAL); // past kvm_mmu_max_gfn()
    assert.equal(set(1, 0, 0xffffffffff000n, 0x1000n, HVA), 0);
    assert.equal(set(5, 0, 0n, 0n, HVA), -EINVAL); // deleting a slot that does not exist
  });

  it('classifies create, move, flags-only and no-op changes, refusing what may not change', () => {
    const vm = newVm();
    const set = (slot: number, flags: number, gpa: bigint, size: bigint, hva: bigint): number =>
      vm.setUserMemoryRegion2(slot, flags, gpa, size, hva, -1, 0n);
    assert.equal(set(0, 0, 0n, MiB2, HVA), 0);
    assert.equal(set(1, 0, 0x100000n, MiB2, HVA), -EEXIST); // overlaps slot 0
    assert.equal(set(0, 0, 0n, MiB2, HVA), 0); // identical: nothing to do
    assert.equal(set(0, 0, 0n, MiB2, HVA + MiB2), -EINVAL); // another hva
    assert.equal(set(0, 0, 0n, 2n * MiB2, HVA), -EINVAL); // another size
    assert.equal(set(0, KVM_MEM_READONLY, 0n, MiB2, HVA), -EINVAL); // toggling READONLY
    assert.equal(set(1, 0, 4n * MiB2, MiB2, HVA), 0);
    assert.equal(set(0, KVM_MEM_LOG_DIRTY_PAGES, 4n * MiB2, MiB2, HVA), -EEXIST); // move onto slot 1
    assert.equal(set(0, KVM_MEM_LOG_DIRTY_PAGES, 8n * MiB2, MiB2, HVA), 0); // move and flags in one call
    assert.equal(vm.slots.baseGfn[0], 4096);
    assert.equal(vm.getDirtyLog(0), 0);
  });

  it('binds guest_memfd slots after the overlap check, so EEXIST wins over EBADF', () => {
    const vm = newVm();
    assert.equal(vm.setUserMemoryRegion2(0, 0, 0n, MiB2, HVA, -1, 0n), 0);
    assert.equal(vm.setUserMemoryRegion2(1, KVM_MEM_GUEST_MEMFD, 0n, MiB2, HVA, 77, 0n), -EEXIST);
    assert.equal(vm.setUserMemoryRegion2(1, KVM_MEM_GUEST_MEMFD, MiB2, MiB2, HVA, 77, 0n), -EBADF);
    // The bind comes before kvm_arch_prepare_memory_region(): EBADF even past the gfn limit.
    assert.equal(vm.setUserMemoryRegion2(2, KVM_MEM_GUEST_MEMFD, 1n << 52n, MiB2, HVA, 77, 0n), -EBADF);
  });

  it('arm64: a slot beyond the 40-bit IPA space is EFAULT', () => {
    const vm = newVm('arm64-s2');
    assert.equal(vm.setUserMemoryRegion2(0, 0, (1n << 40n) - MiB2, MiB2, HVA, -1, 0n), 0);
    assert.equal(vm.setUserMemoryRegion2(1, 0, 1n << 40n, MiB2, HVA, -1, 0n), -EFAULT);
  });
});

describe('dirty log ioctls', () => {
  it('GET_DIRTY_LOG: EINVAL for a bad id, ENOENT for a missing or non-logging slot', () => {
    const vm = newVm();
    vm.setUserMemoryRegion2(0, 0, 0n, MiB2, HVA, -1, 0n);
    assert.equal(vm.getDirtyLog(32764), -EINVAL);
    assert.equal(vm.getDirtyLog(3), -ENOENT);
    assert.equal(vm.getDirtyLog(0), -ENOENT);
  });

  it('CLEAR_DIRTY_LOG clears and re-protects a 64-page aligned range; manual protect keeps GET from clearing', () => {
    const vm = newVm();
    vm.enableCap(168, 0n, 1n); // KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, PROTECT_ENABLE
    vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, MiB2, HVA, -1, 0n);
    for (const page of [1, 2, 70]) vm.access(0, page, ACCESS_WRITE, 0);
    assert.equal(vm.getDirtyLog(0), 3);
    assert.equal(vm.getDirtyLog(0), 3);
    assert.equal(vm.clearDirtyLog(0, 1n, 64n), -EINVAL); // first_page not 64-aligned
    assert.equal(vm.clearDirtyLog(0, 0n, 65n), -EINVAL); // not a multiple of 64, not to the end
    assert.equal(vm.clearDirtyLog(0, 0n, 513n), -EINVAL); // past the slot
    assert.equal(vm.clearDirtyLog(0, 0n, 64n), 0);
    assert.equal(vm.getDirtyLog(0), 1);
    vm.access(0, 1, ACCESS_WRITE, 0); // protected again: logged again
    assert.equal(vm.getDirtyLog(0), 2);
    assert.equal(vm.clearDirtyLog(0, 64n, 448n), 0); // a tail that is not a multiple of 64 is fine
    assert.equal(vm.getDirtyLog(0), 1);
  });
});
