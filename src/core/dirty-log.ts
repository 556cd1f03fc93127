// Dirty logging: KVM_GET_DIRTY_LOG and KVM_CLEAR_DIRTY_LOG over the slots' dirty bitmaps, the
// write-protection that makes the next write fault again, marking a page dirty on a write fault, and
// KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 (virt/kvm/kvm_main.c: kvm_get_dirty_log_protect(),
// kvm_clear_dirty_log_protect(), mark_page_dirty_in_slot(), kvm_vm_ioctl_enable_cap_generic()).
// docs/kvm-rules.md: common.manual-protect, common.clear-mask, x86.init-set, arm64.clear-span.

import {
  ERRNO,
  KVM_ADDRESS_SPACE_NUM,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_USER_MEM_SLOTS,
} from './abi.js';
import { M } from './metrics.js';
import { LEVEL_2M, LEVEL_4K, PTE_ACCESSED, PTE_DIRTY } from './stage2/pte.js';
import type { VmArch, VmParts } from './vm-parts.js';

/** KVM_DIRTY_LOG_MANUAL_CAPS: the args[0] bits KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 takes. */
const MANUAL_CAPS = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET;
/** BITS_PER_LONG: the kernel re-protects per word of the bitmap (one mask per 64 pages). */
const WORD_PAGES_SHIFT = 6;

export class DirtyLog {
  /** kvm->manual_dirty_log_protect: args[0] of the last KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 enable. */
  private manualCaps = 0n;
  /** Runs [start, end) of slot pages a `dirty_clear` row with `bits` passed, waiting for the call's row. */
  private pendingBits: Array<{ slot: number; start: number; end: number }> = [];

  constructor(
    private readonly vm: VmParts,
    private readonly arch: VmArch,
  ) {}

  /**
   * KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) (kvm_vm_ioctl_enable_cap_generic()): INITIALLY_SET
   * only with PROTECT_ENABLE, no other bit, no cap flag; 0 turns manual protect off again.
   */
  enableManualProtect(capFlags: bigint, arg0: bigint): number {
    const allowed = (arg0 & KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE) !== 0n ? MANUAL_CAPS : KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE;
    if (capFlags !== 0n || (arg0 & ~allowed) !== 0n) return -ERRNO.EINVAL;
    this.manualCaps = arg0;
    return 0;
  }

  /** KVM_GET_DIRTY_LOG leaves clearing and re-protecting to KVM_CLEAR_DIRTY_LOG. */
  get manualProtect(): boolean {
    return this.manualCaps !== 0n;
  }

  /** kvm_dirty_log_manual_protect_and_init_set(): new bitmaps start all set, nothing is protected up front. */
  get initiallySet(): boolean {
    return (this.manualCaps & KVM_DIRTY_LOG_INITIALLY_SET) !== 0n;
  }

  /**
   * KVM_GET_DIRTY_LOG (kvm_get_dirty_log_protect()): the number of dirty pages; without manual
   * protect they are cleared and re-protected.
   */
  get(slot: number): number {
    const id = this.slotId(slot);
    if (id < 0) return id;
    const bitmap = this.vm.slots.dirtyBitmap[id]!;
    this.vm.counters[M.dirty_gets]!++;
    // Under manual protect the bitmap is copied out as it is (dirty_bitmap_buffer = dirty_bitmap).
    if (this.manualProtect) return bitmap.count;
    const harvested = this.clearAndProtect(id, [[0, this.vm.slots.npages[id]!]]);
    this.vm.counters[M.dirty_harvested]! += harvested;
    return harvested;
  }

  /**
   * One run of set bits of the bitmap a KVM_CLEAR_DIRTY_LOG passes (a `dirty_clear` row with `bits`):
   * kept until the call's own row, which clears only the pages of its runs.
   */
  clearBits(slot: number, start: number, npages: number): void {
    this.pendingBits.push({ slot, start, end: start + npages });
  }

  /**
   * KVM_CLEAR_DIRTY_LOG (kvm_clear_dirty_log_protect()) for pages [firstPage, firstPage + npages):
   * `masked` clears only the pages of the runs given by clearBits() since the last call (the bits of
   * the VMM's bitmap); otherwise every page of the range (a bitmap of all ones).
   */
  clear(slot: number, firstPage: bigint, npages: bigint, masked = false): number {
    const bits = this.pendingBits;
    this.pendingBits = [];
    const id = this.slotId(slot, firstPage);
    if (id < 0) return id;
    const slotPages = BigInt(this.vm.slots.npages[id]!);
    if (
      firstPage > slotPages ||
      npages > slotPages - firstPage ||
      (npages < slotPages - firstPage && (npages & 63n) !== 0n)
    ) {
      return -ERRNO.EINVAL;
    }
    const from = Number(firstPage);
    const to = Number(firstPage + npages);
    if (!masked) {
      this.clearAndProtect(id, [[from, to]]);
      return 0;
    }
    // The bitmap covers [first, first + npages) only; bits past the slot's end are never set.
    const ranges: Array<[number, number]> = [];
    for (const b of bits.filter((r) => r.slot === slot).sort((x, y) => x.start - y.start)) {
      const lo = Math.max(b.start, from);
      const hi = Math.min(b.end, to);
      if (lo < hi) ranges.push([lo, hi]);
    }
    this.clearAndProtect(id, ranges);
    return 0;
  }

  /** The slot id, or -errno (kvm_get_dirty_log_protect() / kvm_clear_dirty_log_protect() checks, in order). */
  private slotId(slot: number, firstPage = 0n): number {
    const id = slot & 0xffff;
    if (slot >>> 16 >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
    if ((firstPage & 63n) !== 0n) return -ERRNO.EINVAL;
    if (this.vm.slots.used[id] !== 1 || !this.vm.slots.isLogging(id)) return -ERRNO.ENOENT;
    return id;
  }

  /**
   * Clear the dirty bits of slot pages in `ranges` (ascending) and protect those pages again
   * (kvm_arch_mmu_enable_log_dirty_pt_masked(), once per 64-page word with bits cleared); one flush
   * for the call if any bit was cleared. Returns how many were dirty. The bitmap hands back runs of
   * cleared pages, so the cost follows the pages dirtied, not the slot.
   */
  private clearAndProtect(id: number, ranges: ReadonlyArray<readonly [number, number]>): number {
    const bitmap = this.vm.slots.dirtyBitmap[id]!;
    const base = this.vm.slots.baseGfn[id]!;
    // Runs joined while they share a 64-page word: the kernel's [__ffs(mask), __fls(mask)] of that word.
    let spanRuns: number[] = [];
    let changed = 0;
    const endSpan = (): void => {
      if (spanRuns.length === 0) return;
      changed += this.protectSpan(base, spanRuns);
      spanRuns = [];
    };
    const onRun = (start: number, end: number): void => {
      const last = spanRuns.length === 0 ? -1 : spanRuns[spanRuns.length - 1]! - 1;
      if (last < 0 || start >>> WORD_PAGES_SHIFT !== last >>> WORD_PAGES_SHIFT) endSpan();
      spanRuns.push(start, end);
    };
    let n = 0;
    for (const [from, to] of ranges) n += bitmap.clear(from, to, onRun);
    endSpan();
    this.vm.stage2.flushIf(n > 0 || changed > 0);
    return n;
  }

  /**
   * Protect the cleared pages of one span (runs as start, end pairs, slot pages): x86 and arm64
   * kvm_arch_mmu_enable_log_dirty_pt_masked(). Returns how many leaves changed.
   */
  private protectSpan(base: number, runs: readonly number[]): number {
    const mmu = this.vm.mmu;
    const start = base + runs[0]!;
    const end = base + runs[runs.length - 1]!;
    if (this.arch.arm64) {
      // arm64: stage2_wp_range() from the first to the last bit of the word (clean pages between too),
      // then with initially-set the huge blocks there are split (kvm_mmu_split_huge_pages()).
      const changed = mmu.wrprot(start, end);
      if (this.initiallySet && this.arch.eagerSplit) mmu.split(start, end, LEVEL_4K);
      return changed;
    }
    let changed = 0;
    if (this.initiallySet) {
      // x86 with initially-set: huge pages were never protected, so split them (eager_page_split) and
      // write-protect the 2M+ leaves holding the word's first and last dirty page.
      if (this.arch.eagerSplit) mmu.splitNoFlush(start, end, LEVEL_4K);
      changed += mmu.wrprot(start, end, LEVEL_2M);
    }
    // The 4K pages of the mask: PML re-arms by clearing D bits (kvm_mmu_clear_dirty_pt_masked()),
    // else write-protects (kvm_mmu_write_protect_pt_masked()).
    for (let i = 0; i < runs.length; i += 2) {
      const a = base + runs[i]!;
      const b = base + runs[i + 1]!;
      changed += this.arch.pml ? mmu.clearDirty(a, b) : mmu.wrprot(a, b);
    }
    return changed;
  }

  /**
   * A guest write hit a writable leaf whose D bit was clear: the CPU sets D and, with PML, logs the
   * gpa (vmx_flush_pml_buffer() -> kvm_vcpu_mark_page_dirty()). No fault.
   */
  writeClean(vcpu: number, gfn: number, idx: number): void {
    const s2 = this.vm.stage2;
    s2.pool[idx] = s2.pool[idx]! | PTE_DIRTY | PTE_ACCESSED;
    if (!this.arch.pml) return;
    const id = this.vm.slots.lookup(vcpu, gfn);
    if (id >= 0 && this.vm.slots.isLogging(id)) this.markDirty(id, gfn);
  }

  /** A write fault made gfn writable in a logging slot (mark_page_dirty_in_slot()). */
  markDirty(id: number, gfn: number): void {
    if (this.vm.slots.dirtyBitmap[id]!.set(gfn - this.vm.slots.baseGfn[id]!)) this.vm.counters[M.dirty_pages]!++;
  }
}
