// The host mm as KVM sees it: what backs each hva (the `backing` row), invalidations KVM learns of
// through its mmu notifier (virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start() ->
// kvm_unmap_gfn_range()), and userfaultfd registrations, resolved by the guest's faults or by the
// VMM's own accesses (fs/userfaultfd.c handle_userfault()). The host memory itself is hostmm.ts.

import { M } from './metrics.js';
import { PAGE_SHIFT_N, pagesOf, type VmParts } from './vm-parts.js';

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

  /** Register [hva, hva + size) with userfaultfd for missing faults (UFFD_PAGE: fill per page). */
  registerUffd(hva: bigint, size: bigint, flags: number): void {
    this.vm.host.registerUffd(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), flags);
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
    if (host.uffdCount > 0) {
      for (let pfn = start; pfn < start + npages; pfn++) {
        const reg = host.uffdMissing(pfn);
        if (reg >= 0) {
          this.vm.counters[M.uffd_faults]!++;
          host.uffdFill(reg, pfn);
        }
      }
    }
    host.hostTouch(start, npages, write, this.hugeZeroWriteAllocates, this.zapHvaBound);
    return 0;
  }

  private readonly zapHvaBound = (start: number, npages: number): void => this.zapHva(start, npages);
}
