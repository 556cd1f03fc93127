// One VM: memslots, host memory description, guest_memfd files, memory attributes, the stage-2 table,
// dirty bitmaps and counters. Ioctls are cold paths (bigint arguments, 0 / -errno results); access()
// is the hot path: one 4K guest access in, an OUTCOME_* code out, no allocation, no exceptions.

import {
  ERRNO,
  KVM_ADDRESS_SPACE_NUM,
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  KVM_USER_MEM_SLOTS,
  PAGE_SHIFT,
  PAGE_SIZE,
} from './abi.js';
import { arm64UnbackedAbort } from './arm64.js';
import { MemoryAttributes, checkSetMemoryAttributes } from './attributes.js';
import { ConversionLog, type ConversionStats } from './conversions.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FOLIO_LEVELS, GuestMemfds } from './gmem.js';
import { HostMemory } from './hostmm.js';
import { HypShare } from './hypshare.js';
import { VdpaIotlb } from './iotlb.js';
import { M, newCounters } from './metrics.js';
import {
  KVM_MR_CREATE,
  KVM_MR_DELETE,
  KVM_MR_FLAGS_ONLY,
  KVM_MR_MOVE,
  KVM_MR_NONE,
  classifyRegion,
  type RegionChange,
} from './memslot-check.js';
import { Memslots } from './memslots.js';
import {
  ACCESS_EXEC,
  ACCESS_PRIVATE,
  ACCESS_WRITE,
  OUTCOME_MEMFAULT,
  OUTCOME_INTERNAL,
  OUTCOME_MMIO,
  OUTCOME_OK,
} from './outcome.js';
import type { Profile } from './profile.js';
import {
  LEVEL_1G,
  LEVEL_4K,
  LEVEL_PAGES,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_PRESENT,
  PTE_PRIVATE,
  PTE_W,
  PTE_X,
  isLeaf,
} from './stage2/pte.js';
import { Stage2 } from './stage2/table.js';
import { MAP_NEW, MAP_SPURIOUS, Stage2Mmu } from './stage2/visitors.js';

/** x86 kvm_mmu_max_gfn() with a 52-bit MAXPHYADDR host (observed: gpa 0xffffffffff000 accepted). */
export const X86_MAX_GFN = 2 ** 40 - 1;
/** arm64 default VM: 40-bit IPA space (kvm_phys_size()). */
export const ARM64_IPA_PAGES = 2 ** 28;
const PAGE_SHIFT_N = BigInt(PAGE_SHIFT);
const M_ACCESSES = M.accesses;
const BYTES_PER_LEVEL = [PAGE_SIZE, PAGE_SIZE * 512, PAGE_SIZE * 512 * 512] as const;

export class Vm {
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
  /** KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2: dirty_get leaves clearing and re-protecting to dirty_clear. */
  manualDirtyLogProtect = false;
  private readonly arm64: boolean;
  private readonly nxHugePages: boolean;
  private readonly eagerSplit: boolean;
  private readonly change: RegionChange = { change: 0, id: 0, baseGfn: 0, npages: 0, hvaPfn: 0 };

  constructor(readonly profile: Profile) {
    this.arm64 = profile.arch === 'arm64-s2';
    this.nxHugePages = !this.arm64 && profile.knobs['nx-huge-pages'] === 'on';
    this.eagerSplit = profile.knobs['eager-split'] === 'on';
    // Both profiles: a 4-level table (root level 3), 48-bit guest physical addresses.
    this.stage2 = new Stage2(3, this.counters);
    this.mmu = new Stage2Mmu(this.stage2);
    this.iotlb = new VdpaIotlb(profile.knobs['vdpa-release'], this.counters);
    this.hypshare = new HypShare(profile.knobs.hypshare, this.counters);
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
    const ch = this.change;
    const r = classifyRegion(this.slots, { slot, flags, gpa, size, hva, gmemOffset }, ch);
    if (r !== 0) return r;
    if (ch.change === KVM_MR_NONE) return 0;
    const id = ch.id;
    const c = this.counters;
    if (ch.change === KVM_MR_DELETE) {
      const zaps = c[M.zaps]!;
      this.deleteSlot(id);
      c[M.memslot_deletes]!++;
      c[M.memslot_zaps]! += c[M.zaps]! - zaps;
      return 0;
    }
    // kvm_gmem_bind() comes after the overlap check and before the arch checks.
    const bindGmem = ch.change === KVM_MR_CREATE && (flags & KVM_MEM_GUEST_MEMFD) !== 0;
    if (bindGmem) {
      const b = this.gmem.bind(gmemFd, gmemOffset, size, slot);
      if (b !== 0) return b;
    }
    const a = this.archPrepare(ch);
    if (a !== 0) {
      if (bindGmem) this.gmem.unbind(gmemFd, slot);
      return a;
    }
    const zaps = c[M.zaps]!;
    if (ch.change === KVM_MR_CREATE) {
      this.slots.install(id, ch.baseGfn, ch.npages, flags, ch.hvaPfn);
      if (bindGmem) {
        this.slots.gmemFd[id] = gmemFd;
        this.slots.gmemPgoff[id] = Number(gmemOffset >> PAGE_SHIFT_N);
      }
      c[M.memslot_creates]!++;
    } else if (ch.change === KVM_MR_MOVE) {
      // kvm_invalidate_memslot(): nothing may stay mapped at the old place.
      this.zapSlot(id);
      this.slots.move(id, ch.baseGfn);
      this.applyFlags(id, flags);
      c[M.memslot_moves]!++;
    } else if (ch.change === KVM_MR_FLAGS_ONLY) {
      this.applyFlags(id, flags);
      c[M.memslot_flag_changes]!++;
    }
    c[M.memslot_zaps]! += c[M.zaps]! - zaps;
    return 0;
  }

  /** kvm_arch_prepare_memory_region(): the guest physical address limit. */
  private archPrepare(ch: RegionChange): number {
    if (this.arm64) {
      return ch.baseGfn + ch.npages > ARM64_IPA_PAGES ? -ERRNO.EFAULT : 0;
    }
    if (ch.change === KVM_MR_CREATE || ch.change === KVM_MR_MOVE) {
      if (ch.baseGfn + ch.npages - 1 > X86_MAX_GFN) return -ERRNO.EINVAL;
    }
    return 0;
  }

  private deleteSlot(id: number): void {
    this.zapSlot(id);
    const fd = this.slots.gmemFd[id]!;
    if (fd >= 0) this.gmem.unbind(fd, id);
    this.slots.remove(id);
  }

  private zapSlot(id: number): void {
    const base = this.slots.baseGfn[id]!;
    this.mmu.zap(base, base + this.slots.npages[id]!);
  }

  /** A change of LOG_DIRTY_PAGES (kvm_mmu_slot_apply_flags()). */
  private applyFlags(id: number, flags: number): void {
    const wasLogging = this.slots.isLogging(id);
    const logging = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    this.slots.flags[id] = flags;
    this.slots.setLogging(id, logging);
    const base = this.slots.baseGfn[id]!;
    const end = base + this.slots.npages[id]!;
    if (logging && !wasLogging) {
      if (this.eagerSplit) this.mmu.split(base, end, LEVEL_4K);
      const protectedLeaves = this.mmu.wrprot(base, end);
      this.counters[M.memslot_wrprots]! += protectedLeaves;
      this.stage2.flushIf(protectedLeaves > 0);
    } else if (!logging && wasLogging) {
      this.zapCollapsible(id);
    }
  }

  /**
   * Logging was turned off: zap the small leaves of every range that could now be mapped huge, so the
   * next fault maps it huge again (kvm_mmu_zap_collapsible_sptes()).
   */
  private zapCollapsible(id: number): void {
    const base = this.slots.baseGfn[id]!;
    const end = base + this.slots.npages[id]!;
    const pages = LEVEL_PAGES[1];
    for (let gfn = base - (base % pages); gfn < end; gfn += pages) {
      const probe = Math.max(gfn, base);
      const hvaPfn = this.slots.hvaPfn[id]! + (probe - base);
      if (this.hugeLevel(id, probe, hvaPfn, false, LEVEL_1G) > LEVEL_4K) this.mmu.zap(gfn, gfn + pages);
    }
  }

  // ---- dirty logging -------------------------------------------------------------------------

  /** KVM_GET_DIRTY_LOG: the number of dirty pages; without manual protect they are cleared and re-protected. */
  getDirtyLog(slot: number): number {
    const id = slot & 0xffff;
    if (slot >>> 16 >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
    if (this.slots.used[id] !== 1 || !this.slots.isLogging(id)) return -ERRNO.ENOENT;
    const bitmap = this.slots.dirtyBitmap[id]!;
    this.counters[M.dirty_gets]!++;
    if (this.manualDirtyLogProtect) return countBits(bitmap, 0, this.slots.npages[id]!);
    const harvested = this.clearAndProtect(id, 0, this.slots.npages[id]!);
    this.counters[M.dirty_harvested]! += harvested;
    return harvested;
  }

  /** KVM_CLEAR_DIRTY_LOG for pages [firstPage, firstPage + npages) of the slot. */
  clearDirtyLog(slot: number, firstPage: bigint, npages: bigint): number {
    const id = slot & 0xffff;
    if (slot >>> 16 >= KVM_ADDRESS_SPACE_NUM || id >= KVM_USER_MEM_SLOTS) return -ERRNO.EINVAL;
    if ((firstPage & 63n) !== 0n) return -ERRNO.EINVAL;
    if (this.slots.used[id] !== 1 || !this.slots.isLogging(id)) return -ERRNO.ENOENT;
    const slotPages = BigInt(this.slots.npages[id]!);
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

  /** Clear dirty bits of slot pages [from, to) and write-protect those pages again; returns how many. */
  private clearAndProtect(id: number, from: number, to: number): number {
    const bitmap = this.slots.dirtyBitmap[id]!;
    const base = this.slots.baseGfn[id]!;
    let n = 0;
    let changed = 0;
    for (let page = from; page < to; page++) {
      const word = page >>> 5;
      const bit = 1 << (page & 31);
      if ((bitmap[word]! & bit) === 0) continue;
      bitmap[word] = bitmap[word]! & ~bit;
      n++;
      changed += this.mmu.wrprot(base + page, base + page + 1);
    }
    this.stage2.flushIf(n > 0 || changed > 0);
    return n;
  }

  private markDirty(id: number, gfn: number): void {
    const page = gfn - this.slots.baseGfn[id]!;
    const bitmap = this.slots.dirtyBitmap[id]!;
    const word = page >>> 5;
    const bit = 1 << (page & 31);
    if ((bitmap[word]! & bit) === 0) {
      bitmap[word] = bitmap[word]! | bit;
      this.counters[M.dirty_pages]!++;
    }
  }

  // ---- host side -----------------------------------------------------------------------------

  /** `backing`: what host memory is behind [hva, hva + size) (BACKING_* bits). */
  setBacking(hva: bigint, size: bigint, kind: number): void {
    this.host.setBacking(Number(hva >> PAGE_SHIFT_N), pagesOf(hva, size), kind);
  }

  /** mmu notifier invalidation of [hva, hva + size): zap every leaf mapping it, in every slot. */
  unmapHva(hva: bigint, size: bigint): void {
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
  hostAccess(hva: bigint, size: bigint, write: boolean): number {
    void write;
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

  // ---- the guest access: hot path ------------------------------------------------------------

  /** One 4K guest access (ACCESS_READ/WRITE/EXEC with ACCESS_* flag bits) -> OUTCOME_* code. */
  access(vcpu: number, gfn: number, kind: number, flags: number): number {
    const c = this.counters;
    c[M_ACCESSES]!++;
    const s2 = this.stage2;
    if (gfn < s2.maxGfn) {
      const pte = s2.lookup(gfn);
      const need = PTE_PRESENT | (kind === ACCESS_WRITE ? PTE_W : kind === ACCESS_EXEC ? PTE_X : 0);
      const priv = (flags & ACCESS_PRIVATE) !== 0 ? PTE_PRIVATE : 0;
      if ((pte & need) === need && (pte & PTE_PRIVATE) === priv && isLeaf(pte)) {
        s2.pool[s2.lastIdx] = pte | PTE_ACCESSED | (kind === ACCESS_WRITE ? PTE_DIRTY : 0);
        return OUTCOME_OK;
      }
    }
    return this.fault(vcpu, gfn, kind, flags);
  }

  /** A stage-2 fault (kvm_tdp_page_fault() / kvm_handle_guest_abort()). */
  private fault(vcpu: number, gfn: number, kind: number, flags: number): number {
    const c = this.counters;
    c[M.faults]!++;
    const s = this.slots;
    const id = s.lookup(vcpu, gfn);
    if (id < 0) return this.unbacked(kind, flags);
    const priv = (flags & ACCESS_PRIVATE) !== 0;
    if (priv !== this.attributes.isPrivate(gfn)) {
      // kvm_mmu_prepare_memory_fault_exit(): userspace must convert first.
      c[M.exits_memfault]!++;
      return OUTCOME_MEMFAULT;
    }
    const slotFlags = s.flags[id]!;
    const write = kind === ACCESS_WRITE;
    if (write && (slotFlags & KVM_MEM_READONLY) !== 0) return this.unbacked(kind, flags);
    if (this.stage2.maxGfn <= gfn) return this.unbacked(kind, flags);

    const base = s.baseGfn[id]!;
    const hvaPfn = s.hvaPfn[id]! + (gfn - base);
    let maxLevel = LEVEL_1G;
    // Shared faults come from the hva even when the slot's guest_memfd was created with MMAP: recorded
    // on the reference 6.18 host (test/fixtures/recorded/gmem-mmap-closed-*.csv), where a shared write
    // to such a slot completes after the file is closed.
    if (priv) {
      const folio = this.gmem.slotFolioLevel(id, s.gmemPgoff[id]! + (gfn - base), gfn, this.attributes);
      if (folio < 0) {
        // No guest_memfd backing here (closed file, or a hole a fault cannot fill).
        c[M.exits_memfault]!++;
        return OUTCOME_MEMFAULT;
      }
      maxLevel = folio;
    } else if (this.host.uffdCount > 0) {
      const reg = this.host.uffdMissing(hvaPfn);
      if (reg >= 0) {
        c[M.uffd_faults]!++;
        this.host.uffdFill(reg, hvaPfn);
      }
    }

    const logging = s.isLogging(id);
    let level = LEVEL_4K;
    if (!logging && !(kind === ACCESS_EXEC && this.nxHugePages)) {
      level = this.hugeLevel(id, gfn, hvaPfn, priv, maxLevel);
    }

    // Read faults on a logging slot map read-only, so the first write is seen (user_mem_abort()).
    const writable = (slotFlags & KVM_MEM_READONLY) === 0 && (write || !logging);
    let perms = PTE_ACCESSED;
    if (writable) perms |= PTE_W;
    if (write) perms |= PTE_DIRTY;
    if (priv) perms |= PTE_PRIVATE;
    // With the NX huge page mitigation, huge pages are mapped non-executable.
    if (!(this.nxHugePages && level > LEVEL_4K)) perms |= PTE_X;

    if (logging && write) {
      const old = this.stage2.lookup(gfn);
      if (isLeaf(old) && (old & PTE_W) === 0) c[M.faults_wp]!++;
    }
    const result = this.mmu.map(gfn, level, perms);
    if (result === MAP_SPURIOUS) {
      c[M.faults_spurious]!++;
    } else {
      c[M.faults_fixed]!++;
      if (result === MAP_NEW) c[M.leaves_4k + level]!++;
    }
    if (logging && writable) this.markDirty(id, gfn);
    return OUTCOME_OK;
  }

  /** No memslot, or a write to a read-only one: an exit or failure, per architecture. */
  private unbacked(kind: number, flags: number): number {
    if (this.arm64) return arm64UnbackedAbort(this.counters, kind, flags);
    if (kind === ACCESS_EXEC) {
      // Only a gfn with no memslot gets here for a fetch (a read-only slot is executable): KVM
      // emulates the access as MMIO, but the emulator cannot fetch an instruction from MMIO
      // (handle_emulation_failure(), arch/x86/kvm/x86.c): an internal-error exit.
      this.counters[M.exits_internal]!++;
      return OUTCOME_INTERNAL;
    }
    this.counters[M.exits_mmio]!++;
    return OUTCOME_MMIO;
  }

  /**
   * The largest level <= maxLevel at which gfn may be mapped given its slot: the huge range wholly
   * inside the slot, gfn congruent with the hva (or the guest_memfd offset for private memory) modulo
   * the huge size (kvm_alloc_memslot_metadata()'s disallow_lpage), and the range not of mixed
   * private/shared attributes.
   */
  private hugeLevel(id: number, gfn: number, hvaPfn: number, priv: boolean, maxLevel: number): number {
    const s = this.slots;
    const base = s.baseGfn[id]!;
    const end = base + s.npages[id]!;
    let level = maxLevel;
    if (!priv) level = this.host.hostLevel(hvaPfn, level);
    while (level > LEVEL_4K) {
      const pages = LEVEL_PAGES[level]!;
      const aligned = gfn - (gfn % pages);
      // disallow_lpage holds the hva congruence for private faults too (__kvm_mmu_max_mapping_level());
      // a private mapping also needs the guest_memfd folio congruent with the gfn.
      if (
        aligned >= base &&
        aligned + pages <= end &&
        (base - s.hvaPfn[id]!) % pages === 0 &&
        (!priv || (base - s.gmemPgoff[id]!) % pages === 0) &&
        !this.attributes.isMixed(gfn, level)
      ) {
        break;
      }
      level--;
    }
    return level;
  }

  // ---- private memory: guest_memfd and attributes (completed by the private-memory work) ------

  /** KVM_CREATE_GUEST_MEMFD; the file's folio size and split policy come from the profile. */
  createGuestMemfd(fd: number, size: bigint, flags: bigint): number {
    const knobs = this.profile.knobs;
    return this.gmem.create(fd, size, flags, FOLIO_LEVELS[knobs['gmem-folio']], knobs['gmem-split'] === 'minimal');
  }

  /**
   * fallocate() on a guest_memfd: PUNCH_HOLE|KEEP_SIZE when `punchHole`, else `mode` (a trace's
   * gmem_alloc is mode 0, which guest_memfd refuses). A punch zaps every stage-2 leaf mapping the
   * punched pages, in every slot bound to them (kvm_gmem_punch_hole()).
   */
  gmemFallocate(fd: number, punchHole: boolean, offset: bigint, size: bigint, mode = 0): number {
    const m = punchHole ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : mode;
    const r = this.gmem.fallocate(fd, m, offset, size);
    if (r !== 0 || !punchHole) return r;
    this.counters[M.gmem_punches]!++;
    this.counters[M.gmem_punched_pages]! += pagesOf(offset, size);
    const start = Number(offset >> PAGE_SHIFT_N);
    const end = start + Number(size >> PAGE_SHIFT_N);
    this.zapGmem(this.gmem.handleOf(fd), start, end);
    return 0;
  }

  /** close() of a guest_memfd (kvm_gmem_release()): every binding's mappings go; the slots stay. */
  closeGuestMemfd(fd: number): number {
    const h = this.gmem.handleOf(fd);
    if (h < 0) return -ERRNO.EBADF;
    this.zapGmem(h, 0, Number.MAX_SAFE_INTEGER);
    return this.gmem.close(fd);
  }

  /**
   * kvm_gmem_invalidate_begin() for file pages [start, end): zap the gfns they back in every bound
   * slot, then one TLB flush for the whole invalidation (not one per slot). Shared leaves of those
   * gfns go too: without mirrored (TDX) roots, private and shared leaves share one root, and the
   * attribute filter selects roots, not leaves.
   */
  private zapGmem(h: number, start: number, end: number): void {
    const c = this.counters;
    const flushes = c[M.tlb_flushes]!;
    let zapped = 0;
    for (const id of this.gmem.bindingsOf(h)) {
      const pgoff = this.gmem.slotPgoff[id]!;
      const from = Math.max(start, pgoff);
      const to = Math.min(end, pgoff + this.gmem.slotNpages[id]!);
      if (from >= to) continue;
      const gfn = this.slots.baseGfn[id]! + (from - pgoff);
      zapped += this.mmu.zap(gfn, gfn + (to - from));
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
    const r = checkSetMemoryAttributes(gpa, size, attrs, flags);
    if (r !== 0) return r;
    const start = Number(gpa >> PAGE_SHIFT_N);
    const end = Number((gpa + size) >> PAGE_SHIFT_N);
    const priv = attrs !== 0n;
    const a = this.attributes;
    if (a.rangeIs(start, end, priv)) return 0;
    const log = this.conversions;
    const t0 = log.now();
    const c = this.counters;
    const s2 = this.stage2;
    const leaves0 = s2.leaves[0]!;
    const leaves1 = s2.leaves[1]!;
    const leaves2 = s2.leaves[2]!;
    const tables = s2.tablesLive;
    const pages = priv ? end - start - a.countPrivate(start, end) : a.countPrivate(start, end);
    this.gmem.beginConversion(this.slots.baseGfn, start, end, a);
    const zapped = this.mmu.zap(start, end);
    a.set(start, end, priv);
    this.gmem.endConversion(a);
    const splits = this.gmem.lastSplits;
    c[M.conversions]!++;
    c[M.conversions_pages]! += pages;
    c[M.gmem_splits]! += splits;
    c[M.gmem_merges]! += this.gmem.lastMerges;
    // x86: kvm_handle_gfn_range() flushes the whole VM once; arm64's stage-2 unmap invalidates the
    // range itself (FEAT_TLBIRANGE) and asks for no further flush.
    const flushed = zapped > 0 ? 1 : 0;
    log.record({
      pages,
      zaps4k: leaves0 - s2.leaves[0]!,
      zaps2m: leaves1 - s2.leaves[1]!,
      zaps1g: leaves2 - s2.leaves[2]!,
      splits,
      merges: this.gmem.lastMerges,
      tablesFreed: tables - s2.tablesLive,
      tlbFull: this.arm64 ? 0 : flushed,
      tlbRange: this.arm64 ? flushed : 0,
      ns: Math.round((log.now() - t0) * 1e6),
    });
    return 0;
  }

  /** The per-conversion distributions (conv.* modeled, time.conversion_* timing) for results. */
  conversionStats(): ConversionStats {
    return this.conversions.stats();
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

/** Pages touched by [addr, addr + size). */
function pagesOf(addr: bigint, size: bigint): number {
  if (size === 0n) return 0;
  const first = addr >> PAGE_SHIFT_N;
  const last = (addr + size - 1n) >> PAGE_SHIFT_N;
  return Number(last - first + 1n);
}

function countBits(bitmap: Uint32Array, from: number, to: number): number {
  let n = 0;
  for (let page = from; page < to; page++) if ((bitmap[page >>> 5]! & (1 << (page & 31))) !== 0) n++;
  return n;
}
