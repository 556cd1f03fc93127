// One VM: memslots, host memory description, guest_memfd files, memory attributes, the stage-2 table,
// dirty bitmaps and counters. Ioctls are cold paths (bigint arguments, 0 / -errno results); access()
// is the hot path: one 4K guest access in, an OUTCOME_* code out, no allocation, no exceptions.
//
// Vm is a facade: it owns the state and routes each call to the module that follows the kernel's own
// split (virt/kvm and arch/*/kvm):
//   memslot-update.ts  KVM_SET_USER_MEMORY_REGION2: kvm_set_memory_region(), arch prepare/commit
//   page-fault.ts      the fault path: kvm_tdp_page_fault() / user_mem_abort(), mapping level
//   dirty-log.ts       KVM_GET/CLEAR_DIRTY_LOG, write-protection, mark_page_dirty_in_slot()
//   private-memory.ts  guest_memfd and KVM_SET_MEMORY_ATTRIBUTES, with their zaps
//   mmu-notifier.ts    the host mm: backing, mmu notifier invalidation, userfaultfd, VMM accesses

import { MemoryAttributes } from './attributes.js';
import { ConversionLog, type ConversionStats } from './conversions.js';
import { DirtyLog } from './dirty-log.js';
import { GuestMemfds } from './gmem.js';
import { HostMemory } from './hostmm.js';
import { HypShare } from './hypshare.js';
import { VdpaIotlb } from './iotlb.js';
import { MemslotUpdate } from './memslot-update.js';
import { Memslots } from './memslots.js';
import { M, newCounters } from './metrics.js';
import { MmuNotifier } from './mmu-notifier.js';
import { ACCESS_EXEC, ACCESS_PRIVATE, ACCESS_WRITE, OUTCOME_OK } from './outcome.js';
import { PageFault } from './page-fault.js';
import { PrivateMemory } from './private-memory.js';
import type { Profile } from './profile.js';
import { KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, PAGE_SIZE } from './abi.js';
import { LEVEL_PAGES, PTE_ACCESSED, PTE_DIRTY, PTE_PRESENT, PTE_PRIVATE, PTE_W, PTE_X, isLeaf } from './stage2/pte.js';
import { Stage2 } from './stage2/table.js';
import { Stage2Mmu } from './stage2/visitors.js';
import { vmArch, type VmParts } from './vm-parts.js';

export { ARM64_IPA_PAGES, X86_MAX_GFN } from './memslot-update.js';

const M_ACCESSES = M.accesses;
const BYTES_PER_LEVEL = [PAGE_SIZE, PAGE_SIZE * 512, PAGE_SIZE * 512 * 512] as const;

/**
 * The leaf bits an access of `kind` needs to hit. A write hits only a leaf that is writable and
 * already dirty; a clean one is the CPU's D-bit update (and PML's log entry), off the hit path.
 */
function accessNeeds(kind: number): number {
  return PTE_PRESENT | (kind === ACCESS_WRITE ? PTE_W | PTE_DIRTY : kind === ACCESS_EXEC ? PTE_X : 0);
}

/** A present leaf with every bit of `need` and the right private bit: the access completes as a hit. */
function hits(pte: number, need: number, priv: number): boolean {
  return (pte & need) === need && (pte & PTE_PRIVATE) === priv && isLeaf(pte);
}

/** Pages from gfn up to `end` and the end of the huge leaf at `level` that maps gfn. */
function hugeLeafRun(gfn: number, end: number, level: number): number {
  const leafPages = LEVEL_PAGES[level]!;
  return Math.min(end, gfn - (gfn % leafPages) + leafPages) - gfn;
}

export class Vm implements VmParts {
  readonly counters: Float64Array = newCounters();
  readonly slots = new Memslots();
  readonly host = new HostMemory();
  readonly gmem = new GuestMemfds();
  readonly attributes = new MemoryAttributes();
  /** Cost of every KVM_SET_MEMORY_ATTRIBUTES call that converted memory. */
  readonly conversions = new ConversionLog();
  readonly stage2: Stage2;
  readonly mmu: Stage2Mmu;
  /** vhost-vdpa IOTLB beside the stage-2 (iotlb_* and vdpa_close rows). */
  readonly iotlb: VdpaIotlb;
  /** pKVM host/EL2 share tracking (hyp_share / hyp_unshare rows). */
  readonly hypshare: HypShare;
  private readonly memslotUpdate: MemslotUpdate;
  private readonly pageFault: PageFault;
  private readonly dirtyLog: DirtyLog;
  private readonly privateMemory: PrivateMemory;
  private readonly mmuNotifier: MmuNotifier;

  constructor(readonly profile: Profile) {
    const arch = vmArch(profile);
    // x86 and arm64 with ipa=48: a 4-level table (root level 3). arm64's default 40-bit IPA: 3 levels
    // from start level 1 with two concatenated root pages (kvm_init_stage2_mmu(), kvm_pgd_pages()).
    this.stage2 = arch.stage2Levels === 3 ? new Stage2(2, this.counters, 2) : new Stage2(3, this.counters);
    // arm64 replaces a block in the way of a smaller mapping by an empty table (stage2_map_walk_leaf()).
    this.mmu = new Stage2Mmu(this.stage2, arch.arm64);
    this.iotlb = new VdpaIotlb(profile.knobs['vdpa-release'], this.counters);
    this.hypshare = new HypShare(profile.knobs.hypshare, this.counters);
    this.stage2.smallChildrenExec = arch.nxHugePages;
    this.dirtyLog = new DirtyLog(this, arch);
    this.mmuNotifier = new MmuNotifier(this, arch.hugeZeroWriteAllocates);
    this.pageFault = new PageFault(this, arch, this.dirtyLog, this.mmuNotifier);
    this.memslotUpdate = new MemslotUpdate(this, arch, this.pageFault, this.dirtyLog);
    this.privateMemory = new PrivateMemory(this, arch);
  }

  // ---- memslots ------------------------------------------------------------------------------

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
    return this.memslotUpdate.setUserMemoryRegion2(slot, flags, gpa, size, hva, gmemFd, gmemOffset);
  }

  // ---- dirty logging -------------------------------------------------------------------------

  /**
   * KVM_ENABLE_CAP on the VM: 0 or -errno for the capabilities the model knows
   * (KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2), undefined for any other (nothing modeled to compare).
   */
  enableCap(cap: number, capFlags: bigint, arg0: bigint): number | undefined {
    if (cap === KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) return this.dirtyLog.enableManualProtect(capFlags, arg0);
    return undefined;
  }

  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is on: dirty_get leaves clearing and re-protecting to dirty_clear. */
  get manualDirtyLogProtect(): boolean {
    return this.dirtyLog.manualProtect;
  }

  /** KVM_GET_DIRTY_LOG: the number of dirty pages; without manual protect they are cleared and re-protected. */
  getDirtyLog(slot: number): number {
    return this.dirtyLog.get(slot);
  }

  /**
   * KVM_CLEAR_DIRTY_LOG for pages [firstPage, firstPage + npages) of the slot: all of them, or with
   * `masked` only those passed by clearDirtyBits() since the last clear.
   */
  clearDirtyLog(slot: number, firstPage: bigint, npages: bigint, masked = false): number {
    return this.dirtyLog.clear(slot, firstPage, npages, masked);
  }

  /** One run of set bits [start, start + npages) of the bitmap the next masked clearDirtyLog() passes. */
  clearDirtyBits(slot: number, start: number, npages: number): void {
    this.dirtyLog.clearBits(slot, start, npages);
  }

  // ---- host side -----------------------------------------------------------------------------

  /** `backing`: what host memory is behind [hva, hva + size) (BACKING_* bits). */
  setBacking(hva: bigint, size: bigint, kind: number): void {
    this.mmuNotifier.setBacking(hva, size, kind);
  }

  /** mmu notifier invalidation of [hva, hva + size): zap every leaf mapping it, in every slot. */
  unmapHva(hva: bigint, size: bigint): void {
    this.mmuNotifier.invalidateRange(hva, size);
  }

  /** Register [hva, hva + size) with userfaultfd for missing faults (UFFD_PAGE: fill per page). */
  registerUffd(hva: bigint, size: bigint, flags: number): number {
    return this.mmuNotifier.registerUffd(hva, size, flags);
  }

  /**
   * The VMM touches guest memory through its own mapping: may take userfaultfd faults, populates the
   * host pages (a write to a zero page copies it: a notifier zap); not logged.
   */
  hostAccess(hva: bigint, size: bigint, write: boolean): number {
    return this.mmuNotifier.hostAccess(hva, size, write);
  }

  // ---- the guest access: hot path ------------------------------------------------------------

  /** One 4K guest access (ACCESS_READ/WRITE/EXEC with ACCESS_* flag bits) -> OUTCOME_* code. */
  access(vcpu: number, gfn: number, kind: number, flags: number): number {
    const c = this.counters;
    c[M_ACCESSES]!++;
    const s2 = this.stage2;
    if (gfn < s2.maxGfn) {
      const pte = s2.lookup(gfn);
      const need = accessNeeds(kind);
      const priv = (flags & ACCESS_PRIVATE) !== 0 ? PTE_PRIVATE : 0;
      if (hits(pte, need, priv)) {
        s2.pool[s2.lastIdx] = pte | PTE_ACCESSED;
        return OUTCOME_OK;
      }
      if (kind === ACCESS_WRITE && hits(pte, PTE_PRESENT | PTE_W, priv)) {
        this.dirtyLog.writeClean(vcpu, gfn, s2.lastIdx);
        return OUTCOME_OK;
      }
    }
    return this.pageFault.handle(vcpu, gfn, kind, flags);
  }

  /**
   * `pages` 4K guest accesses, gfn, gfn + 1, ... in order (an access row); the first that does not
   * complete ends the run and gives its OUTCOME_* code.
   *
   * Per leaf, not per page: once a page hits, the pages after it under the same leaf hit too (the hit
   * depends only on the leaf's bits, which the first hit already set to what they stay), so a hit on
   * a 2M or 1G leaf accounts the rest of the leaf's pages in the run in bulk, with exactly the
   * counters the page-by-page loop would give; a hit on a 4K leaf goes on to its neighbours in the same
   * table without descending again. What needs per-page work (a clean leaf's D bit and PML entry, a
   * fault) ends a bulk step and is done for its page.
   */
  accessRange(vcpu: number, gfn: number, pages: number, kind: number, flags: number): number {
    const c = this.counters;
    const s2 = this.stage2;
    const need = accessNeeds(kind);
    const priv = (flags & ACCESS_PRIVATE) !== 0 ? PTE_PRIVATE : 0;
    const end = gfn + pages;
    while (gfn < end) {
      if (gfn < s2.maxGfn) {
        const pte = s2.lookup(gfn);
        if (hits(pte, need, priv)) {
          const n = s2.lastLevel === 0 ? this.hitRun4k(gfn, end, need, priv) : hugeLeafRun(gfn, end, s2.lastLevel);
          s2.pool[s2.lastIdx] = pte | PTE_ACCESSED;
          c[M_ACCESSES] += n;
          gfn += n;
          continue;
        }
        if (kind === ACCESS_WRITE && hits(pte, PTE_PRESENT | PTE_W, priv)) {
          c[M_ACCESSES]!++;
          this.dirtyLog.writeClean(vcpu, gfn, s2.lastIdx);
          gfn++;
          continue;
        }
      }
      c[M_ACCESSES]!++;
      const out = this.pageFault.handle(vcpu, gfn, kind, flags);
      if (out !== OUTCOME_OK) return out;
      gfn++;
    }
    return OUTCOME_OK;
  }

  /**
   * The 4K leaf at Stage2.lastIdx hits for gfn: how many pages from gfn on hit in a row, up to `end`
   * and the end of that leaf's table (the next entries of the table map the next gfns). Marks the
   * ones after the first accessed; the caller marks the first.
   */
  private hitRun4k(gfn: number, end: number, need: number, priv: number): number {
    const pool = this.stage2.pool;
    const first = this.stage2.lastIdx;
    // gfn & 511 is exact for any gfn below 2^53 (ToInt32 keeps the low bits).
    const last = first + Math.min(end - gfn, 512 - (gfn & 511));
    let idx = first + 1;
    for (; idx < last; idx++) {
      const pte = pool[idx]!;
      if (!hits(pte, need, priv)) break;
      pool[idx] = pte | PTE_ACCESSED;
    }
    return idx - first;
  }

  // ---- private memory: guest_memfd and attributes --------------------------------------------

  /** KVM_CREATE_GUEST_MEMFD; the file's folio size and split policy come from the profile. */
  createGuestMemfd(fd: number, size: bigint, flags: bigint): number {
    return this.privateMemory.createGuestMemfd(fd, size, flags);
  }

  /**
   * fallocate() on a guest_memfd: PUNCH_HOLE|KEEP_SIZE when `punchHole`, else `mode` (a trace's
   * gmem_alloc gives it in `flags`; KEEP_SIZE allocates, 0 is refused). A punch zaps what maps the
   * punched pages.
   */
  gmemFallocate(fd: number, punchHole: boolean, offset: bigint, size: bigint, mode = 0): number {
    return this.privateMemory.fallocate(fd, punchHole, offset, size, mode);
  }

  /** close() of a guest_memfd (kvm_gmem_release()): every binding's mappings go; the slots stay. */
  closeGuestMemfd(fd: number): number {
    return this.privateMemory.close(fd);
  }

  /** KVM_SET_MEMORY_ATTRIBUTES: a conversion zaps, flushes, sets, splits or merges folios, records its cost. */
  setMemoryAttributes(gpa: bigint, size: bigint, attrs: bigint, flags: bigint): number {
    return this.privateMemory.setMemoryAttributes(gpa, size, attrs, flags);
  }

  /** The per-conversion distributions (conv.* modeled, time.conversion_* timing) for results. */
  conversionStats(): ConversionStats {
    return this.conversions.stats();
  }

  /**
   * Bytes of the typed arrays this Vm holds that grow with the trace (`--max-memory` bounds these,
   * src/core/model-memory.ts): the stage-2 table pool, range maps, dirty bitmaps, conversion log.
   */
  modelBytes(): number {
    return (
      this.stage2.bytes() +
      this.slots.bitmapBytes() +
      this.host.bytes() +
      this.gmem.bytes() +
      this.attributes.private.bytes() +
      this.conversions.bytes()
    );
  }

  // ---- metrics -------------------------------------------------------------------------------

  /** A metric's current value; mapped.* are derived from the live leaves. */
  metric(id: number): number {
    if (id === M.mapped_4k || id === M.mapped_2m || id === M.mapped_1g) {
      const level = id - M.mapped_4k;
      return this.stage2.leaves[level]! * BYTES_PER_LEVEL[level]!;
    }
    return this.counters[id]!;
  }

  /** Final counters, derived metrics included. */
  finish(): Float64Array {
    const out = Float64Array.from(this.counters);
    for (const id of [M.mapped_4k, M.mapped_2m, M.mapped_1g]) out[id] = this.metric(id);
    return out;
  }
}
