// KVM_SET_MEMORY_ATTRIBUTES state: which gfns are private, and per huge page at every huge level
// whether the range is mixed (x86 lpage_info "mixed" tracking). The fault handler asks isPrivate() and
// isMixed() on every fault, so both are a binary search (with a hint) over typed arrays.
//
// KVM keeps a KVM_LPAGE_MIXED_FLAG per huge page per slot, updated by
// kvm_arch_post_set_memory_attributes() (head and tail huge pages of the changed range recomputed
// with hugepage_has_attrs(), fully covered ones cleared) and by
// kvm_mmu_init_memslot_memory_attributes() for a new slot. Those flags are a cache of one function of
// the attributes: "the gfns of this huge page do not all have the same attributes". We evaluate that
// function directly from the runs of private gfns, so it is right for every slot layout by
// construction, and a range becomes eligible for a huge mapping again the moment it is uniform.

import { ERRNO, KVM_MEMORY_ATTRIBUTE_PRIVATE, PAGE_SIZE } from './abi.js';
import { RangeMap } from './range-map.js';

/** gfns per huge page at each level (0 = 4K, 1 = 2M, 2 = 1G). */
const HPAGE_PAGES = [1, 512, 512 * 512] as const;
const RUN_PRIVATE = 1;
const PAGE_MASK = BigInt(PAGE_SIZE - 1);
const U64_MAX = (1n << 64n) - 1n;

/**
 * kvm_supported_mem_attributes() for the software-protected VM type (KVM_X86_SW_PROTECTED_VM):
 * PRIVATE only. The default VM type on the reference host reports KVM_CAP_MEMORY_ATTRIBUTES = 0; the
 * model follows the VM type that supports private memory.
 */
export const SUPPORTED_MEMORY_ATTRIBUTES = KVM_MEMORY_ATTRIBUTE_PRIVATE;

/**
 * kvm_vm_ioctl_set_mem_attributes() argument checks, in the kernel's order. Returns 0 or -EINVAL.
 */
export function checkSetMemoryAttributes(gpa: bigint, size: bigint, attrs: bigint, flags: bigint): number {
  if (flags !== 0n) return -ERRNO.EINVAL;
  if ((attrs & ~SUPPORTED_MEMORY_ATTRIBUTES) !== 0n) return -ERRNO.EINVAL;
  // attrs->address + attrs->size < attrs->address: the u64 sum wrapped.
  if (size === 0n || gpa + size > U64_MAX) return -ERRNO.EINVAL;
  if ((gpa & PAGE_MASK) !== 0n || (size & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
  return 0;
}

export class MemoryAttributes {
  /** Runs of private gfns (value RUN_PRIVATE). */
  readonly private = new RangeMap();

  /**
   * Whether `gfn` is private. Hot path: no allocation; a VM with no private memory (the common case)
   * answers from the run count alone, without a search.
   */
  isPrivate(gfn: number): boolean {
    return this.private.count !== 0 && this.private.find(gfn) >= 0;
  }

  /**
   * Whether the huge range at `level` (1 = 2M, 2 = 1G) that contains `gfn` is mixed (not all-private
   * and not all-shared). A mixed range is never mapped huge.
   */
  isMixed(gfn: number, level: number): boolean {
    if (this.private.count === 0) return false; // all shared
    const pages = HPAGE_PAGES[level]!;
    const start = gfn - (gfn % pages);
    return this.private.classify(start, start + pages) < 0;
  }

  /** Whether gfns [start, end) are not all of one kind. */
  rangeMixed(start: number, end: number): boolean {
    return this.private.classify(start, end) < 0;
  }

  /** Whether every gfn of [start, end) already is private (`priv`) or shared (`!priv`). */
  rangeIs(start: number, end: number, priv: boolean): boolean {
    return this.private.classify(start, end) === (priv ? RUN_PRIVATE : 0);
  }

  /** How many gfns of [start, end) are private. */
  countPrivate(start: number, end: number): number {
    return this.private.countValue(start, end, RUN_PRIVATE);
  }

  /** Make gfns [start, end) private or shared. The caller has zapped the range first. */
  set(start: number, end: number, priv: boolean): void {
    this.private.set(start, end, priv ? RUN_PRIVATE : 0);
  }
}
