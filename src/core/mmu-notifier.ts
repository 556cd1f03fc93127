// The host mm as KVM sees it: what backs each hva (the `backing` row), invalidations KVM learns of
// through its mmu notifier (virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start() ->
// kvm_unmap_gfn_range()), and userfaultfd registrations, resolved by the guest's faults or by the
// VMM's own accesses (fs/userfaultfd.c handle_userfault()). The host memory itself is hostmm.ts.

import { ERRNO, PAGE_SIZE } from './abi.js';
import { TASK_SIZE_MAX } from './memslot-check.js';
import { M } from './metrics.js';
import { PAGE_SHIFT_N, pagesOf, type VmParts } from './vm-parts.js';

/** arm64 TASK_SIZE_64 with 48-bit user addresses (VA_BITS 48, or 52 without a high mmap hint). */
const ARM64_TASK_SIZE = 1n << 48n;
const PAGE_MASK_N = BigInt(PAGE_SIZE - 1);

/**
 * fs/userfaultfd.c validate_range(): page-aligned start and length, a length, no wrap past 2^64, and
 * the whole range below the task size. (Its `start < mmap_min_addr` check is left out: the bound is a
 * sysctl, and no trace registers the first pages of the address space.)
 */
export function validUffdRange(start: bigint, len: bigint, taskSize: bigint): boolean {
  if ((start & PAGE_MASK_N) !== 0n || (len & PAGE_MASK_N) !== 0n || len === 0n) return false;
  if (start >= taskSize || len > taskSize - start) return false;
  return start + len > start;
}

export class MmuNotifier {

  constructor(
    private readonly vm: VmParts,
    /** A write to the huge zero page allocates a THP (6.13+) instead of splitting it (VmArch). */
    private readonly hugeZeroWriteAllocates: boolean,
  ) {}

  /** `backing`: what host memory is behind [hva, hva + size) (BACKING_* bits). */
  setBacking(hva: bigint, size: bigint, kind: number): void {
    this.vm.host.setBacking(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), kind);
  }

  /**
   * Invalidation of [hva, hva + size): zap every leaf mapping it, in every slot (kvm_unmap_gfn_range()),
   * and flush once for the whole notifier call however many slots alias the range
   * (kvm_handle_hva_range() ORs the slots' results; docs/kvm-rules.md, common.flush-counts).
   */
  invalidateRange(hva: bigint, size: bigint): void {
    const start = Number(hva >> PAGE_SHIFT_N);
    const npages = pagesOf(hva, size);
    this.vm.host.unmap(start, npages);
    this.zapHva(start, npages);
  }

  /**
   * The notifier's side of an invalidation of hva pages [start, start + npages): also what a host
   * copy-on-write of a zero page does to the read-only mappings of it (wp_page_copy() ->
   * mmu_notifier_invalidate_range_start(); docs/kvm-rules.md, common.host-pages).
   */
  zapHva(start: number, npages: number): void {
    const end = start + npages;
    const s = this.vm.slots;
    let zapped = 0;
    for (let i = 0; i < s.count; i++) {
      const id = s.sortedId[i]!;
      const slotHva = s.hvaPfn[id]!;
      const from = Math.max(start, slotHva);
      const to = Math.min(end, slotHva + s.npages[id]!);
      if (from >= to) continue;
      const gfn = s.baseGfn[id]! + (from - slotHva);
      zapped += this.vm.mmu.zapNoFlush(gfn, gfn + (to - from));
    }
    this.vm.stage2.flushIf(zapped > 0);
  }

  /**
   * UFFDIO_REGISTER of [hva, hva + size) for missing faults (UFFD_PAGE: fill per page): 0, or -EINVAL
   * for a range fs/userfaultfd.c validate_range() refuses (userfaultfd_register() calls it first).
   */
  registerUffd(hva: bigint, size: bigint, flags: number): number {
    if (!validUffdRange(hva, size, this.vm.profile.arch === 'arm64-s2' ? ARM64_TASK_SIZE : TASK_SIZE_MAX)) return -ERRNO.EINVAL;
    this.vm.host.registerUffd(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), flags);
    return 0;
  }

  /**
   * The VMM touches guest memory through its own mapping: may take userfaultfd faults; populates the
   * host pages (a read of a missing anonymous page maps the zero page, a write to a zero page copies it
   * and invalidates its mappings); not logged.
   */
  hostAccess(hva: bigint, size: bigint, write: boolean): number {
    const start = Number(hva >> PAGE_SHIFT_N);
    const npages = pagesOf(hva, size);
    const host = this.vm.host;
    if (host.uffdCount > 0) this.vm.counters[M.uffd_faults]! += host.uffdFaults(start, npages);
    host.hostTouch(start, npages, write, this.hugeZeroWriteAllocates, this.zapHvaBound);
    return 0;
  }

  private readonly zapHvaBound = (start: number, npages: number): void => this.zapHva(start, npages);
}
