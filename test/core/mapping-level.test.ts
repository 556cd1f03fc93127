// Mapping levels as KVM chooses them: host backing, gfn/hva congruence, slot bounds, dirty logging,
// NX huge pages. Every figure is exact.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KVM_MEM_LOG_DIRTY_PAGES } from '../../src/core/abi.js';
import { BACKING_ANON, BACKING_HUGETLB_1G, BACKING_SHMEM, BACKING_THP } from '../../src/core/hostmm.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, OUTCOME_OK } from '../../src/core/outcome.js';
import { GiB, MiB2, PAGES_PER_2M, addSlot, gfn, metric, metrics, newVm } from './vm-helpers.js';

const HVA = 0x7f0000000000n; // 1G aligned

describe('mapping level from the host backing', () => {
  it('maps a THP-backed, 2M-congruent 1 GiB slot with 512 2M leaves when touched once per 2M', () => {
    const vm = newVm();
    vm.setBacking(HVA, GiB, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, GiB, GiB, HVA);
    for (let i = 0; i < 512; i++) {
      assert.equal(vm.access(0, gfn(GiB) + i * PAGES_PER_2M, ACCESS_WRITE, 0), OUTCOME_OK);
    }
    assert.deepEqual(metrics(vm, ['faults', 'faults.fixed', 'leaves.4k', 'leaves.2m', 'leaves.1g', 'mapped.2m']), {
      faults: 512,
      'faults.fixed': 512,
      'leaves.4k': 0,
      'leaves.2m': 512,
      'leaves.1g': 0,
      'mapped.2m': 1 << 30,
    });
    // Every other page of the slot is now a hit.
    vm.access(0, gfn(GiB) + 7, ACCESS_WRITE, 0);
    vm.access(0, gfn(GiB) + 262143, ACCESS_READ, 0);
    assert.equal(metric(vm, 'faults'), 512);
  });

  it('maps only 4K leaves when the hva is off by 4K from the gpa modulo 2M', () => {
    const vm = newVm();
    vm.setBacking(HVA, GiB + MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, GiB, GiB, HVA + 0x1000n);
    for (let i = 0; i < 512; i++) vm.access(0, gfn(GiB) + i * PAGES_PER_2M, ACCESS_READ, 0);
    assert.deepEqual(metrics(vm, ['faults', 'leaves.4k', 'leaves.2m', 'mapped.4k']), {
      faults: 512,
      'leaves.4k': 512,
      'leaves.2m': 0,
      'mapped.4k': 512 * 4096,
    });
  });

  it('maps one 1G leaf for a hugetlb 1G backed, 1G-aligned slot', () => {
    const vm = newVm();
    vm.setBacking(HVA, GiB, BACKING_HUGETLB_1G);
    addSlot(vm, 0, GiB, GiB, HVA);
    for (let i = 0; i < 512; i++) vm.access(0, gfn(GiB) + i * PAGES_PER_2M, ACCESS_WRITE, 0);
    assert.deepEqual(metrics(vm, ['faults', 'leaves.4k', 'leaves.2m', 'leaves.1g', 'mapped.1g', 'tables.peak']), {
      faults: 1,
      'leaves.4k': 0,
      'leaves.2m': 0,
      'leaves.1g': 1,
      'mapped.1g': 1 << 30,
      'tables.peak': 2, // root (512G entries) and one table of 1G entries
    });
  });

  it('maps the tail of a slot that ends in the middle of a 2M range with 4K leaves', () => {
    const vm = newVm();
    vm.setBacking(HVA, 2n * MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, 0x300000n, HVA); // 3 MiB: one whole 2M range, then 1 MiB
    for (let page = 0; page < 768; page++) vm.access(0, page, ACCESS_READ, 0);
    assert.deepEqual(metrics(vm, ['faults', 'leaves.4k', 'leaves.2m', 'mapped.4k', 'mapped.2m']), {
      faults: 1 + 256,
      'leaves.4k': 256,
      'leaves.2m': 1,
      'mapped.4k': 256 * 4096,
      'mapped.2m': 2 << 20,
    });
  });

  it('maps anonymous memory without THP, and shmem without huge pages, at 4K', () => {
    for (const kind of [BACKING_ANON, BACKING_SHMEM]) {
      const vm = newVm();
      vm.setBacking(HVA, MiB2, kind);
      addSlot(vm, 0, 0n, MiB2, HVA);
      vm.access(0, 0, ACCESS_READ, 0);
      vm.access(0, 1, ACCESS_READ, 0);
      assert.deepEqual(metrics(vm, ['faults', 'leaves.4k', 'leaves.2m']), { faults: 2, 'leaves.4k': 2, 'leaves.2m': 0 });
    }
    const shmemThp = newVm();
    shmemThp.setBacking(HVA, MiB2, BACKING_SHMEM | BACKING_THP);
    addSlot(shmemThp, 0, 0n, MiB2, HVA);
    shmemThp.access(0, 0, ACCESS_READ, 0);
    assert.equal(metric(shmemThp, 'leaves.2m'), 1);
  });

  it('does not map huge when the backing covers only part of the huge hva range', () => {
    const vm = newVm();
    vm.setBacking(HVA, MiB2 / 2n, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.access(0, 0, ACCESS_READ, 0);
    assert.deepEqual(metrics(vm, ['leaves.4k', 'leaves.2m']), { 'leaves.4k': 1, 'leaves.2m': 0 });
  });
});

describe('dirty logging and mapping level', () => {
  function mapped2m(profile: string): ReturnType<typeof newVm> {
    const vm = newVm(profile);
    vm.setBacking(HVA, 2n * MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, 2n * MiB2, HVA);
    vm.access(0, 0, ACCESS_WRITE, 0);
    vm.access(0, 512, ACCESS_WRITE, 0);
    assert.equal(metric(vm, 'leaves.2m'), 2);
    return vm;
  }

  it('splits and write-protects 2M leaves when logging is enabled without PML; writes then fault at 4K and are logged', () => {
    const vm = mapped2m('x86-tdp,pml=off');
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 2n * MiB2, HVA, -1, 0n), 0);
    assert.deepEqual(metrics(vm, ['splits', 'mapped.2m', 'mapped.4k']), {
      splits: 2,
      'mapped.2m': 0,
      'mapped.4k': 4 << 20,
    });
    // Reads still hit: the split leaves are readable.
    vm.access(0, 3, ACCESS_READ, 0);
    assert.equal(metric(vm, 'faults'), 2);
    for (const page of [3, 4, 700]) assert.equal(vm.access(0, page, ACCESS_WRITE, 0), OUTCOME_OK);
    vm.access(0, 3, ACCESS_WRITE, 0); // now writable: a hit
    assert.deepEqual(metrics(vm, ['faults', 'faults.wp', 'faults.fixed', 'leaves.4k']), {
      faults: 5,
      'faults.wp': 3,
      'faults.fixed': 5,
      'leaves.4k': 0, // permission fixes install no new leaf
    });
    assert.equal(vm.getDirtyLog(0), 3);
    assert.equal(vm.getDirtyLog(0), 0);
    // dirty_get write-protected the pages again: the next write faults and is logged again.
    vm.access(0, 4, ACCESS_WRITE, 0);
    assert.equal(metric(vm, 'faults.wp'), 4);
    assert.equal(vm.getDirtyLog(0), 1);
  });

  it('splits lazily, on the first write, when eager page split is off', () => {
    const vm = mapped2m('x86-tdp,eager-split=off');
    assert.equal(vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 2n * MiB2, HVA, -1, 0n), 0);
    assert.deepEqual(metrics(vm, ['splits', 'mapped.2m']), { splits: 0, 'mapped.2m': 4 << 20 });
    vm.access(0, 5, ACCESS_WRITE, 0);
    assert.deepEqual(metrics(vm, ['splits', 'faults.wp', 'mapped.2m', 'mapped.4k']), {
      splits: 1,
      'faults.wp': 1,
      'mapped.2m': 2 << 20,
      'mapped.4k': 2 << 20,
    });
    assert.equal(vm.getDirtyLog(0), 1);
  });

  it('maps a read of a never-touched page on a logging slot read-only (the zero page) and at 4K, so it is not logged; the write copies', () => {
    const vm = newVm();
    vm.setBacking(HVA, MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, MiB2, HVA, KVM_MEM_LOG_DIRTY_PAGES);
    vm.access(0, 9, ACCESS_READ, 0);
    assert.equal(vm.getDirtyLog(0), 0);
    vm.access(0, 9, ACCESS_WRITE, 0);
    // The write breaks copy-on-write: the notifier zaps the read-only leaf and the fault retries.
    assert.deepEqual(metrics(vm, ['faults', 'faults.cow', 'faults.wp', 'leaves.4k', 'leaves.2m']), {
      faults: 3,
      'faults.cow': 1,
      'faults.wp': 0,
      'leaves.4k': 2,
      'leaves.2m': 0,
    });
    assert.equal(vm.getDirtyLog(0), 1);
  });

  it('maps huge again after logging is turned off (before 6.13 collapsible leaves are zapped)', () => {
    const vm = mapped2m('x86-tdp@6.12');
    vm.setUserMemoryRegion2(0, KVM_MEM_LOG_DIRTY_PAGES, 0n, 2n * MiB2, HVA, -1, 0n);
    vm.setUserMemoryRegion2(0, 0, 0n, 2n * MiB2, HVA, -1, 0n);
    assert.equal(metric(vm, 'mapped.4k'), 0);
    vm.access(0, 1, ACCESS_READ, 0);
    assert.equal(metric(vm, 'mapped.2m'), 2 << 20);
  });
});

describe('NX huge pages', () => {
  it('maps exec faults at 4K and huge pages non-executable when the mitigation is on', () => {
    const vm = newVm('x86-tdp,nx-huge-pages=on');
    vm.setBacking(HVA, MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.access(0, 0, ACCESS_READ, 0); // 2M, not executable
    vm.access(0, 1, ACCESS_EXEC, 0); // faults: replaced by 4K leaves as needed
    assert.deepEqual(metrics(vm, ['faults', 'leaves.2m', 'leaves.4k', 'splits']), {
      faults: 2,
      'leaves.2m': 1,
      'leaves.4k': 0,
      splits: 1,
    });
    vm.access(0, 1, ACCESS_EXEC, 0);
    assert.equal(metric(vm, 'faults'), 2);
  });

  it('maps exec faults huge when the mitigation is off', () => {
    const vm = newVm('x86-tdp');
    vm.setBacking(HVA, MiB2, BACKING_ANON | BACKING_THP);
    addSlot(vm, 0, 0n, MiB2, HVA);
    vm.access(0, 1, ACCESS_EXEC, 0);
    assert.equal(metric(vm, 'leaves.2m'), 1);
  });
});
