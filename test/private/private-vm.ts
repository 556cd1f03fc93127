// Builders for private-memory tests: a VM with one guest_memfd bound to one slot, private touches, and
// the last conversion's cost.

import { KVM_MEMORY_ATTRIBUTE_PRIVATE, KVM_MEM_GUEST_MEMFD } from '../../src/core/abi.js';
import type { ConversionCost } from '../../src/core/conversions.js';
import { BACKING_THP } from '../../src/core/hostmm.js';
import { ACCESS_PRIVATE, ACCESS_WRITE } from '../../src/core/outcome.js';
import { PTE_PRIVATE, isLeaf, pteLevel } from '../../src/core/stage2/pte.js';
import type { Vm } from '../../src/core/vm.js';
import { newVm } from '../core/vm-helpers.js';

export const PRIVATE = KVM_MEMORY_ATTRIBUTE_PRIVATE;
export const GMEM = KVM_MEM_GUEST_MEMFD;
export const HVA = 0x7f0000000000n;

/**
 * A VM under `profile` with guest_memfd `fd` of `size` bytes bound to slot 0 at `gpa` (offset 0),
 * THP-backed hva (so shared faults may map huge too), the whole slot made private.
 */
export function privateVm(profile: string, gpa: bigint, size: bigint, fd = 1): Vm {
  const vm = newVm(profile);
  must(vm.createGuestMemfd(fd, size, 0n), 'gmem_create');
  vm.setBacking(HVA, size, BACKING_THP);
  must(vm.setUserMemoryRegion2(0, GMEM, gpa, size, HVA, fd, 0n), 'memslot');
  must(vm.setMemoryAttributes(gpa, size, PRIVATE, 0n), 'attrs');
  return vm;
}

export function must(r: number, what: string): void {
  if (r !== 0) throw new Error(`${what} failed with ${r}`);
}

/** A private (or shared) guest write of one page. */
export function touch(vm: Vm, gfn: number, priv = true): number {
  return vm.access(0, gfn, ACCESS_WRITE, priv ? ACCESS_PRIVATE : 0);
}

/** The last conversion's cost record. */
export function lastConversion(vm: Vm): ConversionCost {
  return vm.conversions.at(vm.conversions.count - 1);
}

/** The leaf mapping gfn: its level and whether it maps private memory, or null. */
export function leafAt(vm: Vm, gfn: number): { level: number; private: boolean } | null {
  const pte = vm.stage2.lookup(gfn);
  if (!isLeaf(pte)) return null;
  return { level: pteLevel(pte), private: (pte & PTE_PRIVATE) !== 0 };
}

export function gfnOf(gpa: bigint): number {
  return Number(gpa >> 12n);
}
