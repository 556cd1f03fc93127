// The fault handler's outcomes other than "mapped": MMIO exits, read-only slots per architecture,
// userfaultfd, host invalidation, and what deleting or moving a slot does to its mappings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../../src/core/abi.js';
import { BACKING_ANON, BACKING_THP, UFFD_PAGE } from '../../src/core/hostmm.js';
import {
  ACCESS_EXEC,
  ACCESS_NISV,
  ACCESS_READ,
  ACCESS_S1PTW,
  ACCESS_WRITE,
  OUTCOME_ENOSYS,
  OUTCOME_MMIO,
  OUTCOME_OK,
} from '../../src/core/outcome.js';
import { MiB2, addSlot, metric, metrics, newVm } from './vm-helpers.js';

const HVA = 0x7f0000000000n;

describe('exits', () => {
  it('exits to the VMM as MMIO for a gfn with no memslot, counting the fault but fixing nothing', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA);
    assert.equal(vm.access(0, 512, ACCESS_READ, 0), OUTCOME_MMIO);
    assert.equal(vm.access(0, 512, ACCESS_READ, 0), OUTCOME_MMIO);
    assert.deepEqual(metrics(vm, ['faults', 'faults.fixed', 'exits.mmio']), {
      faults: 2,
      'faults.fixed': 0,
      'exits.mmio': 2,
    });
  });

  it('x86: reads of a read-only slot map, writes exit as MMIO', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_READONLY);
    assert.equal(vm.access(0, 3, ACCESS_READ, 0), OUTCOME_OK);
    assert.equal(vm.access(0, 3, ACCESS_WRITE, 0), OUTCOME_MMIO);
    assert.equal(vm.access(0, 3, ACCESS_READ, 0), OUTCOME_OK);
    assert.deepEqual(metrics(vm, ['faults', 'faults.fixed', 'exits.mmio', 'leaves.4k']), {
      faults: 2,
      'faults.fixed': 1,
      'exits.mmio': 1,
      'leaves.4k': 1,
    });
  });

  it('arm64: a write to a read-only slot exits as MMIO with a valid syndrome and fails KVM_RUN without', () => {
    const vm = newVm('arm64-s2');
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_READONLY);
    assert.equal(vm.access(0, 1, ACCESS_WRITE, 0), OUTCOME_MMIO);
    assert.equal(vm.access(0, 1, ACCESS_WRITE, ACCESS_NISV), OUTCOME_ENOSYS);
    assert.equal(vm.access(0, 1, ACCESS_READ, ACCESS_NISV), OUTCOME_OK);
    assert.equal(vm.access(0, 1, ACCESS_EXEC, 0), OUTCOME_OK);
    assert.deepEqual(metrics(vm, ['exits.mmio', 'runs.enosys', 'faults']), {
      'exits.mmio': 1,
      'runs.enosys': 1,
      faults: 3,
    });
  });

  it('arm64: a stage-1 walk that writes a page-table page in a logging slot dirties that page', () => {
    const vm = newVm('arm64-s2');
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_LOG_DIRTY_PAGES);
    vm.access(0, 7, ACCESS_READ, ACCESS_S1PTW);
    assert.equal(vm.getDirtyLog(0), 0);
    vm.access(0, 7, ACCESS_WRITE, ACCESS_S1PTW);
    assert.equal(vm.getDirtyLog(0), 1);
  });
});

describe('userfaultfd', () => {
  it('takes one fault for the first touch of a registered range, then the handler has filled it all', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.registerUffd(HVA, 0x10000n, 0);
    for (let page = 0; page < 16; page++) vm.access(0, page, ACCESS_READ, 0);
    assert.deepEqual(metrics(vm, ['uffd.faults', 'faults', 'faults.fixed']), {
      'uffd.faults': 1,
      faults: 16,
      'faults.fixed': 16,
    });
  });

  it('takes one fault per page when the handler fills page by page', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.registerUffd(HVA, 0x10000n, UFFD_PAGE);
    for (let page = 0; page < 16; page++) vm.access(0, page, ACCESS_READ, 0);
    assert.equal(metric(vm, 'uffd.faults'), 16);
  });

  it('counts host accesses to missing pages too, and an unmapped range is missing again', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.registerUffd(HVA, 0x2000n, 0);
    assert.equal(vm.hostAccess(HVA + 0x1000n, 8n, true), 0);
    vm.access(0, 0, ACCESS_READ, 0);
    assert.equal(metric(vm, 'uffd.faults'), 1);
    vm.unmapHva(HVA, 0x2000n);
    vm.access(0, 0, ACCESS_READ, 0);
    assert.equal(metric(vm, 'uffd.faults'), 2);
  });

  it('refuses with EINVAL what validate_range() refuses: unaligned, empty, wrapping past 2^64, beyond user space', () => {
    for (const profile of ['x86-tdp', 'arm64-s2']) {
      const vm = newVm(profile);
      addSlot(vm, 0, 0n, MiB2, HVA);
      const refused: Array<[bigint, bigint]> = [
        [HVA + 0x800n, 0x1000n], // start not page-aligned
        [HVA, 0x1800n], // length not page-aligned
        [HVA, 0n],
        [0x1000n, 0xfffffffffffff000n], // start + len == 2^64
        [0xfffffffffffff000n, 0x2000n], // wraps
        [0x7ffffffff000n, 0x1000n << (profile === 'x86-tdp' ? 0n : 40n)], // past x86 TASK_SIZE_MAX / arm64 2^48
      ];
      for (const [start, len] of refused) assert.equal(vm.registerUffd(start, len, 0), -22, `${profile} ${start} ${len}`);
      // Nothing was registered: the first touch is no userfault.
      vm.access(0, 0, ACCESS_READ, 0);
      assert.equal(metric(vm, 'uffd.faults'), 0);
      assert.equal(vm.registerUffd(HVA, 0x1000n, 0), 0);
    }
  });
});

describe('invalidation', () => {
  it('unmap_hva zaps every leaf mapping the range, in every slot that maps it', () => {
    const vm = newVm();
    vm.setBacking(HVA, MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, MiB2, HVA);
    addSlot(vm, 1, 0x40000000n, MiB2, HVA); // an alias of the same host memory
    vm.access(0, 0, ACCESS_READ, 0);
    vm.access(0, 0x40000, ACCESS_READ, 0);
    vm.unmapHva(HVA + 0x3000n, 0x1000n);
    // One notifier call, one flush, however many slots alias the range (docs/kvm-rules.md, common.flush-counts).
    assert.deepEqual(metrics(vm, ['zaps', 'mapped.2m', 'tlb.flushes']), { zaps: 2, 'mapped.2m': 0, 'tlb.flushes': 1 });
    vm.access(0, 5, ACCESS_READ, 0);
    assert.equal(metric(vm, 'faults'), 3);
  });

  it('deleting a slot zaps its mappings; accesses then exit as MMIO', () => {
    const vm = newVm();
    addSlot(vm, 0, 0n, MiB2, HVA);
    for (let page = 0; page < 10; page++) vm.access(0, page, ACCESS_WRITE, 0);
    assert.equal(vm.setUserMemoryRegion2(0, 0, 0n, 0n, HVA, -1, 0n), 0);
    assert.deepEqual(metrics(vm, ['zaps', 'mapped.4k']), { zaps: 10, 'mapped.4k': 0 });
    assert.equal(vm.access(0, 3, ACCESS_READ, 0), OUTCOME_MMIO);
  });

  it('moving a slot zaps the old range and maps the new one on demand', () => {
    const vm = newVm();
    addSlot(vm, 3, 0n, MiB2, HVA);
    vm.access(0, 1, ACCESS_READ, 0); // caches slot 3 as vCPU 0's last used slot
    assert.equal(vm.setUserMemoryRegion2(3, 0, 0x100000000n, MiB2, HVA, -1, 0n), 0);
    assert.equal(metric(vm, 'zaps'), 1);
    assert.equal(vm.access(0, 1, ACCESS_READ, 0), OUTCOME_MMIO);
    assert.equal(vm.access(0, 0x100001, ACCESS_READ, 0), OUTCOME_OK);
  });
});

describe('memslot lookup', () => {
  it('finds the right slot among 32764 one-page slots, through the cache and without it', () => {
    const vm = newVm();
    for (let id = 0; id < 32764; id++) addSlot(vm, id, BigInt(id) * 0x2000n, 0x1000n, HVA + BigInt(id) * 0x1000n);
    const s = vm.slots;
    assert.equal(s.count, 32764);
    for (const id of [0, 1, 12345, 32763]) {
      assert.equal(s.lookup(id % 7, id * 2), id);
      assert.equal(s.lookup(id % 7, id * 2), id);
      assert.equal(s.lookup(id % 7, id * 2 + 1), -1);
    }
    assert.equal(vm.setUserMemoryRegion2(32764, 0, 0x100000000n, 0x1000n, HVA, -1, 0n), -22);
  });
});
