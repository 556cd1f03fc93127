// Dirty logging: KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG over the slots' dirty bitmaps, the
// write-protection that makes the next write fault again, and marking a page dirty on a write fault
// (virt/kvm/kvm_main.c: kvm_get_dirty_log_protect(), kvm_clear_dirty_log_protect(),
// mark_page_dirty_in_slot()).

import { ERRNO, KVM_ADDRESS_SPACE_NUM, KVM_USER_MEM_SLOTS } from './abi.js';
import { M } from './metrics.js';
import { PTE_ACCESSED, PTE_DIRTY } from './stage2/pte.js';
import type { VmParts } from './vm-parts.js';

export class DirtyLog {

  constructor(
    private readonly vm: VmParts,
    /** Intel PML (x86 `pml=on`): the CPU logs writes to clean 4K leaves; no write protection. */
    private readonly pml: boolean,
  ) {}

  /**
   * KVM_GET_DIRTY_LOG (kvm_get_dirty_log_protect()): the number of dirty pages; without manual
   * protect they are cleared and re-protected.
   */
  get(slot: number, manualProtect: boolean): number {
    const id = slot & 0xffff;
    if (slot >>> 16 >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
    if (this.vm.slots.used[id] !== 1 || !this.vm.slots.isLogging(id)) return -ERRNO.ENOENT;
    const bitmap = this.vm.slots.dirtyBitmap[id]!;
    this.vm.counters[M.dirty_gets]!++;
    // Under manual protect the bitmap is copied out as it is (dirty_bitmap_buffer = dirty_bitmap).
    if (manualProtect) return bitmap.count;
    const harvested = this.clearAndProtect(id, 0, this.vm.slots.npages[id]!);
    this.vm.counters[M.dirty_harvested]! += harvested;
    return harvested;
  }

  /** KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect()) for pages [firstPage, firstPage + npages). */
  clear(slot: number, firstPage: bigint, npages: bigint): number {
    const id = slot & 0xffff;
    if (slot >>> 16 >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
    if ((firstPage & 63n) !== 0n) return -ERRNO.EINVAL;
    if (this.vm.slots.used[id] !== 1 || !this.vm.slots.isLogging(id)) return -ERRNO.ENOENT;
    const slotPages = BigInt(this.vm.slots.npages[id]!);
    if (
      firstPage > slotPages ||
      npages > slotPages - firstPage ||
      (npages < slotPages - firstPage && (npages & 63n) !== 0n)
    ) {
      return -ERRNO.EINVAL;
    }
    this.clearAndProtect(id, Number(firstPage), Number(firstPage + npages));
    return 0;
  }

  /**
   * Clear dirty bits of slot pages [from, to) and write-protect those pages again
   * (kvm_arch_mmu_enable_log_dirty_pt_masked()); one flush for the call. Returns how many were dirty.
   * The bitmap hands back runs of cleared pages, so the cost follows the pages dirtied, not the slot.
   */
  private clearAndProtect(id: number, from: number, to: number): number {
    const bitmap = this.vm.slots.dirtyBitmap[id]!;
    const base = this.vm.slots.baseGfn[id]!;
    const mmu = this.vm.mmu;
    let changed = 0;
    const n = bitmap.clear(from, to, (start, end) => {
      // kvm_arch_mmu_enable_log_dirty_pt_masked(): PML re-arms by clearing D bits, else write-protects.
      changed += this.pml ? mmu.clearDirty(base + start, base + end) : mmu.wrprot(base + start, base + end);
    });
    this.vm.stage2.flushIf(n > 0 || changed > 0);
    return n;
  }

  /**
   * A guest write hit a writable leaf whose D bit was clear: the CPU sets D and, with PML, logs the
   * gpa (vmx_flush_pml_buffer() -> kvm_vcpu_mark_page_dirty()). No fault.
   */
  writeClean(vcpu: number, gfn: number, idx: number): void {
    const s2 = this.vm.stage2;
    s2.pool[idx] = s2.pool[idx]! | PTE_DIRTY | PTE_ACCESSED;
    if (!this.pml) return;
    const id = this.vm.slots.lookup(vcpu, gfn);
    if (id >= 0 && this.vm.slots.isLogging(id)) this.markDirty(id, gfn);
  }

  /** A write fault made gfn writable in a logging slot (mark_page_dirty_in_slot()). */
  markDirty(id: number, gfn: number): void {
    if (this.vm.slots.dirtyBitmap[id]!.set(gfn - this.vm.slots.baseGfn[id]!)) this.vm.counters[M.dirty_pages]!++;
  }
}
