// The host mm as KVM sees it: what backs each hva (the `backing` row), invalidations KVM learns of
// through its mmu notifier (virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start() ->
// kvm_unmap_gfn_range()), and userfaultfd registrations, resolved by the guest's faults or by the
// VMM's own accesses (fs/userfaultfd.c handle_userfault()). The host memory itself is hostmm.ts.

import { M } from './metrics.js';
import { PAGE_SHIFT_N, pagesOf, type VmParts } from './vm-parts.js';

export class MmuNotifier {

  constructor(private readonly vm: VmParts) {}

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
    const end = start + npages;
    this.vm.host.unmap(start, npages);
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

  /** The VMM touches guest memory through its own mapping: may take userfaultfd faults; not logged. */
  hostAccess(hva: bigint, size: bigint): number {
    const start = Number(hva >> PAGE_SHIFT_N);
    const end = start + pagesOf(hva, size);
    if (this.vm.host.uffdCount === 0) return 0;
    for (let pfn = start; pfn < end; pfn++) {
      const reg = this.vm.host.uffdMissing(pfn);
      if (reg >= 0) {
        this.vm.counters[M.uffd_faults]!++;
        this.vm.host.uffdFill(reg, pfn);
      }
    }
    return 0;
  }
}
