// guest_memfd: creation, binding, fallocate and close, errno for errno as Linux 6.18 answers, and
// what punching and closing do to stage-2 mappings.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ERRNO } from '../../src/core/abi.js';
import { FALLOC_FL_KEEP_SIZE } from '../../src/core/gmem.js';
import { BACKING_THP } from '../../src/core/hostmm.js';
import { OUTCOME_MEMFAULT, OUTCOME_OK } from '../../src/core/outcome.js';
import { GiB, MiB2, metrics, newVm } from '../core/vm-helpers.js';
import { GMEM, HVA, PRIVATE, gfnOf, leafAt, must, touch } from './private-vm.js';

const { EBADF, EINVAL, EOPNOTSUPP } = ERRNO;
const BIT63 = 1n << 63n;

describe('KVM_CREATE_GUEST_MEMFD', () => {
  it('rejects size 0, an unaligned size, a negative loff_t size and unknown flags with EINVAL', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    assert.equal(vm.createGuestMemfd(1, 0n, 0n), -EINVAL);
    assert.equal(vm.createGuestMemfd(1, 0x1234n, 0n), -EINVAL);
    assert.equal(vm.createGuestMemfd(1, BIT63, 0n), -EINVAL);
    assert.equal(vm.createGuestMemfd(1, 0x200000n, BIT63), -EINVAL);
    assert.equal(vm.createGuestMemfd(1, 0x200000n, 4n), -EINVAL);
  });

  it('accepts flags 0, 1 (MMAP), 2 (INIT_SHARED) and 3', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    assert.deepEqual([0n, 1n, 2n, 3n].map((flags, i) => vm.createGuestMemfd(i, 0x1000n, flags)), [0, 0, 0, 0]);
  });
});

describe('binding a guest_memfd to a memslot', () => {
  it('EBADF for an unknown fd, EINVAL for a range past the end of the file or overlapping another binding', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x800000n, 0n), 'create');
    assert.equal(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, 0x200000n, HVA, 7, 0n), -EBADF);
    assert.equal(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, 0x200000n, HVA, 1, 0x700000n), -EINVAL);
    assert.equal(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, 0x200000n, HVA, 1, 0x1000n), 0);
    // [0x100000, 0x300000) overlaps [0x1000, 0x201000) in the same file: EINVAL, not EEXIST.
    assert.equal(vm.setUserMemoryRegion2(2, GMEM, 0x48000000n, 0x200000n, HVA + GiB, 1, 0x100000n), -EINVAL);
    assert.equal(vm.setUserMemoryRegion2(2, GMEM, 0x48000000n, 0x200000n, HVA + GiB, 1, 0x201000n), 0);
  });

  it('deleting the slot frees its part of the file for another binding', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x400000n, 0n), 'create');
    must(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, 0x200000n, HVA, 1, 0n), 'bind');
    must(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, 0n, HVA, 1, 0n), 'delete');
    assert.equal(vm.setUserMemoryRegion2(2, GMEM, 0x50000000n, 0x200000n, HVA, 1, 0n), 0);
  });
});

describe('fallocate on a guest_memfd', () => {
  it('checks the fd first, then len 0, then the mode, then alignment', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x400000n, 0n), 'create');
    assert.equal(vm.gmemFallocate(2, true, 0x1001n, 0n), -EBADF);
    assert.equal(vm.gmemFallocate(1, true, 0n, 0n), -EINVAL);
    assert.equal(vm.gmemFallocate(1, false, 0x1000n, 0x1001n), -EOPNOTSUPP, 'plain mode 0');
    assert.equal(vm.gmemFallocate(1, true, 0x7n, 0x1000n), -EINVAL);
    assert.equal(vm.gmemFallocate(1, true, 0n, 0x1001n), -EINVAL);
    assert.equal(vm.gmemFallocate(1, true, BIT63, 0x1000n), -EINVAL, 'a negative loff_t offset');
  });

  it('punching beyond the end of the file succeeds; KEEP_SIZE allocation succeeds', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x200000n, 0n), 'create');
    assert.equal(vm.gmemFallocate(1, true, 0x800000n, 0x1000n), 0);
    assert.equal(vm.gmemFallocate(1, false, 0n, 0x200000n, FALLOC_FL_KEEP_SIZE), 0);
    assert.equal(vm.gmem.folioLevel(1, 0), 1, 'allocated as one 2M folio');
  });

  it('a punch in a guest_memfd bound to two slots zaps the leaves in both, with one TLB flush', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x400000n, 0n), 'create');
    must(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, MiB2, HVA, 1, 0n), 'bind A');
    must(vm.setUserMemoryRegion2(2, GMEM, 0x80000000n, MiB2, HVA + GiB, 1, MiB2), 'bind B');
    must(vm.setMemoryAttributes(0x40000000n, MiB2, PRIVATE, 0n), 'attrs A');
    must(vm.setMemoryAttributes(0x80000000n, MiB2, PRIVATE, 0n), 'attrs B');
    touch(vm, gfnOf(0x40000000n));
    touch(vm, gfnOf(0x80000000n));
    assert.deepEqual(metrics(vm, ['leaves.2m', 'mapped.2m']), { 'leaves.2m': 2, 'mapped.2m': 2 * 0x200000 });
    const flushes = metrics(vm, ['tlb.flushes'])['tlb.flushes']!;
    assert.equal(vm.gmemFallocate(1, true, 0n, 0x400000n), 0);
    assert.deepEqual(metrics(vm, ['zaps', 'mapped.2m', 'tlb.flushes']), { zaps: 2, 'mapped.2m': 0, 'tlb.flushes': flushes + 1 });
  });

  it('a 4K punch zaps only the slot that maps it, and the refilled hole maps 4K', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x400000n, 0n), 'create');
    must(vm.setUserMemoryRegion2(1, GMEM, 0x40000000n, MiB2, HVA, 1, 0n), 'bind A');
    must(vm.setUserMemoryRegion2(2, GMEM, 0x80000000n, MiB2, HVA + GiB, 1, MiB2), 'bind B');
    must(vm.setMemoryAttributes(0x40000000n, MiB2, PRIVATE, 0n), 'attrs A');
    must(vm.setMemoryAttributes(0x80000000n, MiB2, PRIVATE, 0n), 'attrs B');
    touch(vm, gfnOf(0x40000000n));
    touch(vm, gfnOf(0x80000000n));
    assert.equal(vm.gmemFallocate(1, true, MiB2 + 0x5000n, 0x1000n), 0);
    assert.equal(leafAt(vm, gfnOf(0x40000000n))?.level, 1, 'slot A untouched');
    assert.equal(leafAt(vm, gfnOf(0x80000000n)), null, 'slot B zapped');
    assert.equal(touch(vm, gfnOf(0x80000000n) + 5), OUTCOME_OK);
    assert.equal(leafAt(vm, gfnOf(0x80000000n) + 5)?.level, 0, 'the 2M folio is no longer whole');
  });
});

describe('closing a guest_memfd', () => {
  it('zaps its bindings, keeps the slots, and later private faults on them find no backing', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, GiB, 0n), 'create');
    vm.setBacking(HVA, GiB, BACKING_THP);
    must(vm.setUserMemoryRegion2(3, GMEM, GiB, GiB, HVA, 1, 0n), 'bind');
    must(vm.setMemoryAttributes(GiB, MiB2, PRIVATE, 0n), 'attrs');
    const g = gfnOf(GiB);
    assert.equal(touch(vm, g), OUTCOME_OK);
    assert.equal(touch(vm, g + 512, false), OUTCOME_OK, 'a shared gfn maps from the hva');
    assert.equal(vm.closeGuestMemfd(1), 0);
    assert.deepEqual(metrics(vm, ['zaps', 'mapped.2m']), { zaps: 2, 'mapped.2m': 0 });
    assert.equal(touch(vm, g), OUTCOME_MEMFAULT, 'kvm_gmem_get_pfn(): no file');
    assert.equal(touch(vm, g + 512, false), OUTCOME_OK, 'shared memory still comes from the hva');
    assert.equal(vm.closeGuestMemfd(1), -EBADF);
    assert.equal(vm.gmemFallocate(1, true, 0n, 0x1000n), -EBADF);
    assert.equal(vm.setUserMemoryRegion2(4, GMEM, 0x100000000n, MiB2, HVA, 1, 0n), -EBADF);
    assert.equal(vm.setUserMemoryRegion2(3, GMEM, GiB, 0n, HVA, 1, 0n), 0, 'the slot can still be deleted');
  });

  it('a trace id reused after close names the new file; the old slot keeps the closed one', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, MiB2, 0n), 'create');
    must(vm.setUserMemoryRegion2(0, GMEM, GiB, MiB2, HVA, 1, 0n), 'bind');
    must(vm.setMemoryAttributes(GiB, MiB2 * 2n, PRIVATE, 0n), 'attrs');
    must(vm.closeGuestMemfd(1), 'close');
    must(vm.createGuestMemfd(1, MiB2, 0n), 'create again');
    assert.equal(vm.setUserMemoryRegion2(1, GMEM, GiB + MiB2, MiB2, HVA + MiB2, 1, 0n), 0);
    assert.equal(touch(vm, gfnOf(GiB)), OUTCOME_MEMFAULT, 'slot 0: the closed file');
    assert.equal(touch(vm, gfnOf(GiB + MiB2)), OUTCOME_OK, 'slot 1: the new file');
  });

  it('a private fault on a slot without guest_memfd is a memory-fault exit', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    vm.setBacking(HVA, MiB2, BACKING_THP);
    must(vm.setUserMemoryRegion2(0, 0, GiB, MiB2, HVA, -1, 0n), 'slot');
    must(vm.setMemoryAttributes(GiB, MiB2, PRIVATE, 0n), 'attrs');
    assert.equal(touch(vm, gfnOf(GiB)), OUTCOME_MEMFAULT);
  });
});

describe('KVM_SET_MEMORY_ATTRIBUTES validation', () => {
  it('EINVAL for flags != 0, unsupported attributes, size 0, overflow, and unaligned address or size', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    assert.deepEqual(
      [
        vm.setMemoryAttributes(0n, 0x1000n, PRIVATE, 1n),
        vm.setMemoryAttributes(0n, 0x1000n, 1n, 0n),
        vm.setMemoryAttributes(0n, 0x1000n, PRIVATE | 1n, 0n),
        vm.setMemoryAttributes(0n, 0n, PRIVATE, 0n),
        vm.setMemoryAttributes(0xfffffffffffff000n, 0x2000n, PRIVATE, 0n),
        vm.setMemoryAttributes(0x800n, 0x1000n, PRIVATE, 0n),
        vm.setMemoryAttributes(0n, 0x1800n, PRIVATE, 0n),
      ],
      [-EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL],
    );
    // address + size wrapping to 0 is an overflow too, so the last page of the u64 space is out of reach.
    assert.equal(vm.setMemoryAttributes(0xfffffffffffff000n, 0x1000n, PRIVATE, 0n), -EINVAL);
    assert.equal(vm.setMemoryAttributes(0xffffffffffffe000n, 0x1000n, PRIVATE, 0n), 0);
    assert.deepEqual([vm.attributes.isPrivate(2 ** 52 - 2), vm.attributes.isPrivate(2 ** 52 - 1)], [true, false]);
  });
});

describe('guest_memfd folios', () => {
  it('KEEP_SIZE allocation around allocated pages fills only the holes (gmem-folio=4k)', () => {
    const vm = newVm('x86-tdp,gmem-folio=4k,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x10000n, 0n), 'create');
    assert.equal(vm.gmem.folioLevel(1, 3), 0); // page 3 allocated by the lookup
    assert.equal(vm.gmemFallocate(1, false, 0n, 0x10000n, FALLOC_FL_KEEP_SIZE), 0);
    const runs = vm.gmem.runsOf(1);
    assert.deepEqual(runs, [[0, 16, 0]]);
  });

  it('a 1G-folio file smaller than 1G allocates 2M folios, and a tail smaller than 2M 4K ones', () => {
    const vm = newVm('x86-tdp,gmem-folio=1g,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x201000n, 0n), 'create');
    assert.deepEqual([vm.gmem.folioLevel(1, 0), vm.gmem.folioLevel(1, 512)], [1, 0]);
    assert.equal(vm.gmem.folioLevel(1, 513), -1, 'past the end of the file');
  });
});

describe('a guest_memfd created with MMAP', () => {
  // Recorded on the reference 6.18 host (test/fixtures/recorded/gmem-mmap-closed-write-ok.csv).
  it('shared faults on its slot come from the hva, before and after the file is closed', () => {
    const vm = newVm('x86-tdp,gmem-folio=2m,vm-type=sw-protected');
    must(vm.createGuestMemfd(1, 0x400000n, 1n), 'create');
    must(vm.setUserMemoryRegion2(509, GMEM, 0x10000000n, 0x1000n, 0x7f0f40400000n, 1, 0x3ff000n), 'bind');
    must(vm.closeGuestMemfd(1), 'close');
    assert.equal(touch(vm, gfnOf(0x10000000n), false), OUTCOME_OK);
    assert.deepEqual(leafAt(vm, gfnOf(0x10000000n)), { level: 0, private: false });
    must(vm.setMemoryAttributes(0x10000000n, 0x1000n, PRIVATE, 0n), 'attrs');
    assert.equal(touch(vm, gfnOf(0x10000000n), true), OUTCOME_MEMFAULT, 'a private access has no file');
  });
});
