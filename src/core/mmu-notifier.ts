// The host mm as KVM sees it: what backs each hva (the `backing` row), invalidations KVM learns of
// through its mmu notifier (virt/kvm/kvm_main.c kvm_mmu_notifier_invalidate_range_start() ->
// kvm_unmap_gfn_range()), and userfaultfd registrations, resolved by the guest's faults or by the
// VMM's own accesses (fs/userfaultfd.c handle_userfault()). The host memory itself is hostmm.ts.

import type { HostMemory } from './hostmm.js';
import type { Memslots } from './memslots.js';
import { M } from './metrics.js';
import type { Stage2Mmu } from './stage2/visitors.js';
import { PAGE_SHIFT_N, pagesOf, type VmParts } from './vm-parts.js';

export class MmuNotifier {
  private readonly counters: Float64Array;
  private readonly slots: Memslots;
  private readonly host: HostMemory;
  private readonly mmu: Stage2Mmu;

  constructor(vm: VmParts) {
    this.counters = vm.counters;
    this.slots = vm.slots;
    this.host = vm.host;
    this.mmu = vm.mmu;
  }

  /** `backing`: what host memory is behind [hva, hva + size) (BACKING_* bits). */
  setBacking(hva: bigint, size: bigint, kind: number): void {
    this.host.setBacking(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), kind);
  }

  /** Invalidation of [hva, hva + size): zap every leaf mapping it, in every slot (kvm_unmap_gfn_range()). */
  invalidateRange(hva: bigint, size: bigint): void {
    const start = Number(hva >> PAGE_SHIFT_N);
    const npages = pagesOf(hva, size);
    const end = start + npages;
    this.host.unmap(start, npages);
    const s = this.slots;
    for (let i = 0; i < s.count; i++) {
      const id = s.sortedId[i]!;
      const slotHva = s.hvaPfn[id]!;
      const from = Math.max(start, slotHva);
      const to = Math.min(end, slotHva + s.npages[id]!);
      if (from >= to) continue;
      const gfn = s.baseGfn[id]! + (from - slotHva);
      this.mmu.zap(gfn, gfn + (to - from));
    }
  }

  /** Register [hva, hva + size) with userfaultfd for missing faults (UFFD_PAGE: fill per page). */
  registerUffd(hva: bigint, size: bigint, flags: number): void {
    this.host.registerUffd(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), flags);
  }

  /** The VMM touches guest memory through its own mapping: may take userfaultfd faults; not logged. */
  hostAccess(hva: bigint, size: bigint): number {
    const start = Number(hva >> PAGE_SHIFT_N);
    const end = start + pagesOf(hva, size);
    if (this.host.uffdCount === 0) return 0;
    for (let pfn = start; pfn < end; pfn++) {
      const reg = this.host.uffdMissing(pfn);
      if (reg >= 0) {
        this.counters[M.uffd_faults]!++;
        this.host.uffdFill(reg, pfn);
      }
    }
    return 0;
  }
}
