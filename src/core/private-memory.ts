// Private memory: guest_memfd files (virt/kvm/guest_memfd.c) and memory attributes
// (KVM_SET_MEMORY_ATTRIBUTES in virt/kvm/kvm_main.c), with the stage-2 zaps each of them causes.
// The files themselves are modeled in gmem.ts, the attributes in attributes.ts, the per-conversion
// cost in conversions.ts; this module joins them to the memslots and the stage-2.

import { ERRNO } from './abi.js';
import { checkSetMemoryAttributes } from './attributes.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FOLIO_LEVELS } from './gmem.js';
import { M } from './metrics.js';
import { PAGE_SHIFT_N, pagesOf, type VmArch, type VmParts } from './vm-parts.js';

export class PrivateMemory {

  constructor(
    private readonly vm: VmParts,
    private readonly arch: VmArch,
  ) {}

  /** KVM_CREATE_GUEST_MEMFD (kvm_gmem_create()); the folio size and split policy come from the profile. */
  createGuestMemfd(fd: number, size: bigint, flags: bigint): number {
    const knobs = this.vm.profile.knobs;
    return this.vm.gmem.create(fd, size, flags, FOLIO_LEVELS[knobs['gmem-folio']], knobs['gmem-split'] === 'minimal');
  }

  /**
   * fallocate() on a guest_memfd (kvm_gmem_fallocate()): PUNCH_HOLE|KEEP_SIZE when `punchHole`, else
   * `mode`. A punch zaps every stage-2 leaf mapping the punched pages, in every slot bound to them
   * (kvm_gmem_punch_hole()).
   */
  fallocate(fd: number, punchHole: boolean, offset: bigint, size: bigint, mode: number): number {
    const m = punchHole ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : mode;
    const r = this.vm.gmem.fallocate(fd, m, offset, size);
    // A gmem_alloc row whose mode is PUNCH_HOLE|KEEP_SIZE punches too.
    if (r !== 0 || (m & FALLOC_FL_PUNCH_HOLE) === 0) return r;
    const start = Number(offset >> PAGE_SHIFT_N);
    const end = start + Number(size >> PAGE_SHIFT_N);
    this.vm.counters[M.gmem_punches]!++;
    this.vm.counters[M.gmem_punched_pages]! += pagesOf(offset, size);
    this.zapGmem(this.vm.gmem.handleOf(fd), start, end);
    return 0;
  }

  /** close() of a guest_memfd (kvm_gmem_release()): every binding's mappings go; the slots stay. */
  close(fd: number): number {
    const h = this.vm.gmem.handleOf(fd);
    if (h < 0) return -ERRNO.EBADF;
    this.zapGmem(h, 0, Number.MAX_SAFE_INTEGER);
    return this.vm.gmem.close(fd);
  }

  /**
   * kvm_gmem_invalidate_begin() for file pages [start, end): zap the gfns they back in every bound
   * slot, then one TLB flush for the whole invalidation (not one per slot). Shared leaves of those
   * gfns go too: without mirrored (TDX) roots, private and shared leaves share one root, and the
   * attribute filter selects roots, not leaves.
   */
  private zapGmem(h: number, start: number, end: number): void {
    const c = this.vm.counters;
    const flushes = c[M.tlb_flushes]!;
    let zapped = 0;
    for (const id of this.vm.gmem.bindingsOf(h)) {
      const pgoff = this.vm.gmem.slotPgoff[id]!;
      const from = Math.max(start, pgoff);
      const to = Math.min(end, pgoff + this.vm.gmem.slotNpages[id]!);
      if (from >= to) continue;
      const gfn = this.vm.slots.baseGfn[id]! + (from - pgoff);
      zapped += this.vm.mmu.zap(gfn, gfn + (to - from));
    }
    c[M.tlb_flushes] = flushes + (zapped > 0 ? 1 : 0);
  }

  /**
   * KVM_SET_MEMORY_ATTRIBUTES (kvm_vm_set_mem_attributes()). A call that changes nothing returns at
   * once; otherwise it is a conversion: zap the range (kvm_arch_pre_set_memory_attributes()), flush,
   * set the attributes (mixed state follows, see attributes.ts), split or merge guest_memfd folios,
   * and record the cost.
   */
  setMemoryAttributes(gpa: bigint, size: bigint, attrs: bigint, flags: bigint): number {
    // kvm_vm_ioctl(): no supported attributes (x86 KVM_X86_DEFAULT_VM) is -ENOTTY for any argument.
    if (!this.arch.memoryAttributes) return -ERRNO.ENOTTY;
    const r = checkSetMemoryAttributes(gpa, size, attrs, flags);
    if (r !== 0) return r;
    const start = Number(gpa >> PAGE_SHIFT_N);
    const end = Number((gpa + size) >> PAGE_SHIFT_N);
    const priv = attrs !== 0n;
    const a = this.vm.attributes;
    if (a.rangeIs(start, end, priv)) return 0;
    const log = this.vm.conversions;
    const t0 = log.now();
    const c = this.vm.counters;
    const s2 = this.vm.stage2;
    const leaves0 = s2.leaves[0]!;
    const leaves1 = s2.leaves[1]!;
    const leaves2 = s2.leaves[2]!;
    const tables = s2.tablesLive;
    const pages = priv ? end - start - a.countPrivate(start, end) : a.countPrivate(start, end);
    this.vm.gmem.beginConversion(this.vm.slots.baseGfn, start, end, a);
    const zapped = this.vm.mmu.zap(start, end);
    a.set(start, end, priv);
    this.vm.gmem.endConversion(a);
    const splits = this.vm.gmem.lastSplits;
    c[M.conversions]!++;
    c[M.conversions_pages]! += pages;
    c[M.gmem_splits]! += splits;
    c[M.gmem_merges]! += this.vm.gmem.lastMerges;
    // x86: kvm_handle_gfn_range() flushes the whole VM once; arm64's stage-2 unmap invalidates the
    // range itself (FEAT_TLBIRANGE) and asks for no further flush.
    const flushed = zapped > 0 ? 1 : 0;
    const arm64 = this.arch.arm64;
    log.record({
      pages,
      zaps4k: leaves0 - s2.leaves[0]!,
      zaps2m: leaves1 - s2.leaves[1]!,
      zaps1g: leaves2 - s2.leaves[2]!,
      splits,
      merges: this.vm.gmem.lastMerges,
      tablesFreed: tables - s2.tablesLive,
      tlbFull: arm64 ? 0 : flushed,
      tlbRange: arm64 ? flushed : 0,
      ns: Math.round((log.now() - t0) * 1e6),
    });
    return 0;
  }
}
