// KVM_SET_USER_MEMORY_REGION2 after its checks (virt/kvm/kvm_main.c kvm_set_memory_region() ->
// kvm_set_memslot()): bind guest_memfd, the arch prepare step, then create, delete, move or change
// flags, and what the stage-2 must do for each (the arch commit step). The checks and the
// classification of the change live in memslot-check.ts.

import { ERRNO, KVM_MEM_GUEST_MEMFD, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from './abi.js';
import type { DirtyLog } from './dirty-log.js';
import {
  KVM_MR_CREATE,
  KVM_MR_DELETE,
  KVM_MR_FLAGS_ONLY,
  KVM_MR_MOVE,
  KVM_MR_NONE,
  classifyRegion,
  type RegionChange,
} from './memslot-check.js';
import { M } from './metrics.js';
import type { PageFault } from './page-fault.js';
import { LEVEL_1G, LEVEL_2M, LEVEL_4K, LEVEL_PAGES } from './stage2/pte.js';
import { PAGE_SHIFT_N, X86_MAX_GFN, type VmArch, type VmParts } from './vm-parts.js';

export { X86_MAX_GFN };

/** arm64 default VM: 40-bit IPA space (kvm_phys_size()); the `ipa` knob changes it (VmArch.ipaPages). */
export const ARM64_IPA_PAGES = 2 ** 28;

export class MemslotUpdate {
  /** Scratch for classifyRegion(): one per VM, so an update allocates nothing for it. */
  private readonly change: RegionChange = { change: 0, id: 0, baseGfn: 0, npages: 0, hvaPfn: 0 };
  /** Stage-2 tables below the root that the slots' ranges can need (Stage2.tablesCovering()), summed. */
  private slotTables = 0;

  constructor(
    private readonly vm: VmParts,
    private readonly arch: VmArch,
    /** The fault path's mapping-level rule, which decides what zap-collapsible zaps. */
    private readonly fault: PageFault,
    /** Asked whether new dirty bitmaps start all set (KVM_DIRTY_LOG_INITIALLY_SET). */
    private readonly dirtyLog: DirtyLog,
  ) {}

  /** KVM_SET_USER_MEMORY_REGION2. Returns 0 or -errno. */
  setUserMemoryRegion2(
    slot: number,
    flags: number,
    gpa: bigint,
    size: bigint,
    hva: bigint,
    gmemFd: number,
    gmemOffset: bigint,
  ): number {
    const ch = this.change;
    const r = classifyRegion(this.vm.slots, { slot, flags, gpa, size, hva, gmemOffset }, ch);
    if (r !== 0) return r;
    if (ch.change === KVM_MR_NONE) return 0;
    const id = ch.id;
    const c = this.vm.counters;
    // Per-change counts and the leaves each change zapped, for the time estimates (src/estimate/).
    const zapsBefore = c[M.zaps]!;
    if (ch.change === KVM_MR_DELETE) {
      this.deleteSlot(id);
      c[M.memslot_deletes]!++;
      c[M.memslot_zaps]! += c[M.zaps]! - zapsBefore;
      return 0;
    }
    // kvm_gmem_bind() comes after the overlap check and before the arch checks.
    const bindGmem = ch.change === KVM_MR_CREATE && (flags & KVM_MEM_GUEST_MEMFD) !== 0;
    if (bindGmem) {
      const b = this.vm.gmem.bind(gmemFd, gmemOffset, size, slot);
      if (b !== 0) return b;
    }
    const a = this.archPrepare(ch);
    if (a !== 0) {
      if (bindGmem) this.vm.gmem.unbind(gmemFd, slot);
      return a;
    }
    if (ch.change === KVM_MR_CREATE) {
      this.vm.slots.install(id, ch.baseGfn, ch.npages, flags, ch.hvaPfn, this.dirtyLog.initiallySet);
      if (bindGmem) {
        this.vm.slots.gmemFd[id] = gmemFd;
        this.vm.slots.gmemPgoff[id] = Number(gmemOffset >> PAGE_SHIFT_N);
      }
      c[M.memslot_creates]!++;
      this.reserveTables(id, 1);
    } else if (ch.change === KVM_MR_MOVE) {
      // kvm_invalidate_memslot(): nothing may stay mapped at the old place.
      this.zapSlot(id);
      this.reserveTables(id, -1);
      this.vm.slots.move(id, ch.baseGfn);
      this.reserveTables(id, 1);
      this.applyFlags(id, flags, false);
      c[M.memslot_moves]!++;
    } else if (ch.change === KVM_MR_FLAGS_ONLY) {
      this.applyFlags(id, flags, true);
      c[M.memslot_flag_changes]!++;
    }
    c[M.memslot_zaps]! += c[M.zaps]! - zapsBefore;
    return 0;
  }

  /** kvm_arch_prepare_memory_region(): the guest physical address limit. */
  private archPrepare(ch: RegionChange): number {
    if (this.arch.arm64) {
      return ch.baseGfn + ch.npages > this.arch.ipaPages ? -ERRNO.EFAULT : 0;
    }
    if (ch.change === KVM_MR_CREATE || ch.change === KVM_MR_MOVE) {
      if (ch.baseGfn + ch.npages - 1 > X86_MAX_GFN) return -ERRNO.EINVAL;
    }
    return 0;
  }

  /**
   * Slot `id` comes (`sign` 1) or goes (-1): the stage-2 tables its range can need join or leave
   * `slotTables`, and the table pool is reserved for the root and those of every slot
   * (Stage2.reserveTables()), so that it is not grown and copied while they fill. Not a KVM step:
   * the model's own memory.
   */
  private reserveTables(id: number, sign: 1 | -1): void {
    const base = this.vm.slots.baseGfn[id]!;
    const stage2 = this.vm.stage2;
    this.slotTables += sign * stage2.tablesCovering(base, base + this.vm.slots.npages[id]!);
    if (sign > 0) stage2.reserveTables(stage2.rootTables + this.slotTables);
  }

  /** KVM_MR_DELETE: zap the slot's mappings, unbind its guest_memfd, drop it (kvm_delete_memslot()). */
  private deleteSlot(id: number): void {
    this.zapSlot(id);
    this.reserveTables(id, -1);
    const fd = this.vm.slots.gmemFd[id]!;
    if (fd >= 0) this.vm.gmem.unbind(fd, id);
    this.vm.slots.remove(id);
  }

  /**
   * kvm_arch_flush_shadow_memslot(): on x86 a default VM with KVM_X86_QUIRK_SLOT_ZAP_ALL (and every VM
   * before 6.12) zaps every mapping of the VM (kvm_mmu_zap_all_fast()), so every vCPU refaults;
   * otherwise only the slot's leaves go (docs/kvm-rules.md, x86.slot-zap-all).
   */
  private zapSlot(id: number): void {
    if (this.arch.slotZapAll) {
      this.vm.mmu.zap(0, this.vm.stage2.maxGfn);
      return;
    }
    const base = this.vm.slots.baseGfn[id]!;
    this.vm.mmu.zap(base, base + this.vm.slots.npages[id]!);
  }

  /** A change of LOG_DIRTY_PAGES (kvm_mmu_slot_apply_flags()); `flagsOnly`: KVM_MR_FLAGS_ONLY, not a move. */
  private applyFlags(id: number, flags: number, flagsOnly: boolean): void {
    const wasLogging = this.vm.slots.isLogging(id);
    const logging = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    const initiallySet = this.dirtyLog.initiallySet;
    this.vm.slots.flags[id] = flags;
    // kvm_prepare_memory_region(): a new bitmap, all set with initially-set (docs/kvm-rules.md, dirty.init-set).
    this.vm.slots.setLogging(id, logging, initiallySet);
    // x86 kvm_mmu_slot_apply_flags(): nothing more for a read-only slot, which cannot be made writable,
    // or for a move, whose old mappings kvm_arch_flush_shadow_memslot() already zapped (no flush either).
    if (!this.arch.arm64 && ((flags & KVM_MEM_READONLY) !== 0 || !flagsOnly)) return;
    const base = this.vm.slots.baseGfn[id]!;
    const end = base + this.vm.slots.npages[id]!;
    if (logging && !wasLogging) {
      // Initially-set protects nothing up front: every page counts as dirty, and each
      // KVM_CLEAR_DIRTY_LOG protects (and splits) what it clears (x86 kvm_mmu_slot_apply_flags(),
      // arm64 kvm_arch_commit_memory_region()).
      if (initiallySet) return;
      const mmu = this.vm.mmu;
      if (this.arch.arm64) {
        if (this.arch.eagerSplit) mmu.split(base, end, LEVEL_4K);
        const protectedLeaves = mmu.wrprot(base, end);
        this.vm.counters[M.memslot_wrprots]! += protectedLeaves;
        this.vm.stage2.flushIf(protectedLeaves > 0);
        return;
      }
      // x86 kvm_mmu_slot_apply_flags(): eager split (no flush of its own), then with PML clear the D
      // bits of 4K leaves and write-protect only huge ones, else write-protect everything; then one
      // unconditional flush (docs/kvm-rules.md, x86.pml and x86.flush-counts).
      if (this.arch.eagerSplit) mmu.splitNoFlush(base, end, LEVEL_4K);
      if (this.arch.pml) mmu.clearDirty(base, end);
      this.vm.counters[M.memslot_wrprots]! += mmu.wrprot(base, end, this.arch.pml ? LEVEL_2M : LEVEL_4K);
      this.vm.stage2.flushIf(true);
    } else if (!logging && wasLogging && !this.arch.arm64) {
      // arm64's kvm_arch_commit_memory_region() does nothing to the stage-2 when logging stops: the
      // small mappings become blocks again only as they fault (docs/kvm-rules.md, arm64.log-off).
      if (this.arch.recoverHugeInPlace) this.recoverHuge(id);
      else this.zapCollapsible(id);
    }
  }

  /**
   * Logging was turned off, x86 6.13+: rebuild every huge mapping the slot allows in place
   * (kvm_mmu_recover_huge_pages() -> recover_huge_pages_range()): no zap, no refault, one flush
   * (docs/kvm-rules.md, x86.recover-huge).
   */
  private recoverHuge(id: number): void {
    const s = this.vm.slots;
    const base = s.baseGfn[id]!;
    const hvaBase = s.hvaPfn[id]!;
    const fault = this.fault;
    const attrs = this.vm.attributes;
    this.vm.counters[M.recovered]! += this.vm.mmu.recoverHuge(
      base,
      base + s.npages[id]!,
      (gfn, level) => !attrs.isPrivate(gfn) && fault.maxMappingLevel(id, gfn, hvaBase + (gfn - base), false, level) >= level,
      this.arch.nxHugePages,
    );
  }

  /**
   * Logging was turned off: zap the small leaves of every range that could now be mapped huge, so the
   * next fault maps it huge again (kvm_mmu_zap_collapsible_sptes()).
   */
  private zapCollapsible(id: number): void {
    const base = this.vm.slots.baseGfn[id]!;
    const end = base + this.vm.slots.npages[id]!;
    const pages = LEVEL_PAGES[1];
    for (let gfn = base - (base % pages); gfn < end; gfn += pages) {
      const probe = Math.max(gfn, base);
      const hvaPfn = this.vm.slots.hvaPfn[id]! + (probe - base);
      if (this.fault.maxMappingLevel(id, probe, hvaPfn, false, LEVEL_1G) > LEVEL_4K) this.vm.mmu.zap(gfn, gfn + pages);
    }
  }
}
