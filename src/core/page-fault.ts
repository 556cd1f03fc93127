// The stage-2 fault path: a guest access that missed (x86 kvm_tdp_page_fault(), arm64
// user_mem_abort() via kvm_handle_guest_abort()): find the memslot, check private/shared, resolve
// userfaultfd, choose the mapping level, map, count and mark dirty. Reached from Vm.access() only on a
// miss; allocation-free like the hit path.

import { KVM_MEM_READONLY } from './abi.js';
import { arm64UnbackedAbort } from './arm64.js';
import type { MemoryAttributes } from './attributes.js';
import type { DirtyLog } from './dirty-log.js';
import type { GuestMemfds } from './gmem.js';
import { HOST_COW, HOST_RO, type HostMemory } from './hostmm.js';
import type { Memslots } from './memslots.js';
import { M } from './metrics.js';
import type { MmuNotifier } from './mmu-notifier.js';
import { ACCESS_EXEC, ACCESS_PRIVATE, ACCESS_WRITE, OUTCOME_INTERNAL, OUTCOME_MEMFAULT, OUTCOME_MMIO, OUTCOME_OK } from './outcome.js';
import { LEVEL_1G, LEVEL_2M, LEVEL_4K, LEVEL_PAGES, PTE_ACCESSED, PTE_DIRTY, PTE_PRIVATE, PTE_W, PTE_X, isLeaf, pteLevel } from './stage2/pte.js';
import type { Stage2 } from './stage2/table.js';
import { MAP_NEW, MAP_SPURIOUS, type Stage2Mmu } from './stage2/visitors.js';
import type { VmArch, VmParts } from './vm-parts.js';

export class PageFault {
  // The parts the fault path reads, held directly (not through the Vm) to save a load per use on the
  // one path that runs for every missed access.
  private readonly counters: Float64Array;
  private readonly slots: Memslots;
  private readonly host: HostMemory;
  private readonly gmem: GuestMemfds;
  private readonly attributes: MemoryAttributes;
  private readonly stage2: Stage2;
  private readonly mmu: Stage2Mmu;
  private readonly arm64: boolean;
  private readonly nxHugePages: boolean;
  private readonly execOnlyOnExecFault: boolean;
  private readonly logReadMapsWritable: boolean;
  private readonly hugeZeroWriteAllocates: boolean;

  constructor(
    vm: VmParts,
    arch: VmArch,
    private readonly dirtyLog: DirtyLog,
    private readonly notifier: MmuNotifier,
  ) {
    this.counters = vm.counters;
    this.slots = vm.slots;
    this.host = vm.host;
    this.gmem = vm.gmem;
    this.attributes = vm.attributes;
    this.stage2 = vm.stage2;
    this.mmu = vm.mmu;
    this.arm64 = arch.arm64;
    this.nxHugePages = arch.nxHugePages;
    this.execOnlyOnExecFault = arch.execOnlyOnExecFault;
    this.logReadMapsWritable = arch.logReadMapsWritable;
    this.hugeZeroWriteAllocates = arch.hugeZeroWriteAllocates;
  }

  /** A stage-2 fault (kvm_tdp_page_fault() / kvm_handle_guest_abort()) -> OUTCOME_* code. */
  handle(vcpu: number, gfn: number, kind: number, flags: number): number {
    const c = this.counters;
    c[M.faults]!++;
    const s = this.slots;
    const id = s.lookup(vcpu, gfn);
    const priv = (flags & ACCESS_PRIVATE) !== 0;
    if (id < 0) return this.noSlot(kind, flags);
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
    // Whether the host maps the page writable (hva_to_pfn()); private memory has no host mapping.
    let hostWritable = true;
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
    } else if (!(write && this.host.uffdCount === 0 && this.host.writeNext(hvaPfn))) {
      // Userfaultfd faults in order extend the host's fill cursor (HostMemory.uffdNext()).
      if (this.host.uffdNext(hvaPfn)) c[M.uffd_faults]!++;
      else hostWritable = this.hostPage(hvaPfn, write);
    }

    // arm64 memslot_is_logging(): a read-only slot is never logging, whatever its flags.
    const logging = s.isLogging(id) && !(this.arm64 && (slotFlags & KVM_MEM_READONLY) !== 0);
    let level = LEVEL_4K;
    // A shared fault on a host with 4K-only backings maps 4K (hostLevel() would say so): no call.
    if (!logging && !(kind === ACCESS_EXEC && this.nxHugePages) && (priv || this.host.hugeBackings !== 0)) {
      level = this.maxMappingLevel(id, gfn, hvaPfn, priv, maxLevel);
      // disallowed_hugepage_adjust(): a range split for an instruction fetch stays small.
      if (this.nxHugePages) while (level > LEVEL_4K && this.isNxTable(gfn, level)) level--;
    }

    // A read fault maps writable when the host page is (hva_to_pfn(): "map read fault as writable if
    // possible"); on a logging slot x86 does so too and marks the page dirty (make_spte()), arm64 maps
    // read-only so the first write is seen (user_mem_abort()). docs/kvm-rules.md, x86.read-fault-writable.
    const writable = (slotFlags & KVM_MEM_READONLY) === 0 && hostWritable && (write || !logging || this.logReadMapsWritable);
    let perms = PTE_ACCESSED;
    if (writable) perms |= PTE_W;
    // make_spte() makes a writable leaf of a logging slot dirty: it is logged now, not on the first write.
    if (write || (logging && writable)) perms |= PTE_DIRTY;
    if (priv) perms |= PTE_PRIVATE;
    // With the NX huge page mitigation, huge pages are mapped non-executable. arm64 without FEAT_DIC
    // maps only instruction fetches executable (user_mem_abort(): the icache is invalidated for them).
    if (!(this.nxHugePages && level > LEVEL_4K) && !(this.execOnlyOnExecFault && kind !== ACCESS_EXEC)) perms |= PTE_X;

    if (logging && write) {
      const old = this.stage2.lookup(gfn);
      if (isLeaf(old) && (old & PTE_W) === 0) c[M.faults_wp]!++;
    }
    if (this.arm64) perms = this.arm64PermissionFault(gfn, level, kind, perms);
    const result = this.mmu.map(gfn, level, perms);
    if (result === MAP_SPURIOUS) {
      c[M.faults_spurious]!++;
    } else {
      c[M.faults_fixed]!++;
      if (result === MAP_NEW) c[M.leaves_4k + level]!++;
    }
    if (logging && writable) this.dirtyLog.markDirty(id, gfn);
    if (kind === ACCESS_EXEC && this.nxHugePages) this.markNxTables(gfn);
    return OUTCOME_OK;
  }

  /**
   * The host side of the fault (hva_to_pfn()): userfaultfd, then populate the host page; whether the host maps it
   * writable. A write to a zero page breaks copy-on-write: the host's mmu notifier zaps the read-only
   * mappings of it first, which makes this fault stale (x86 is_page_fault_stale(), arm64
   * mmu_invalidate_retry()): it returns to the guest and faults again, counted once more in `faults`.
   * docs/kvm-rules.md, common.host-pages.
   */
  private hostPage(hvaPfn: number, write: boolean): boolean {
    const host = this.host;
    // A missing page of a registered range faults to the userfaultfd handler first; the page it fills
    // (UFFDIO_COPY) is a page of its own, writable in the host: what touch() would find, unasked.
    if (host.uffdCount > 0 && host.uffdFault(hvaPfn) === 1) {
      this.counters[M.uffd_faults]!++;
      return true;
    }
    const r = host.touch(hvaPfn, write, this.hugeZeroWriteAllocates);
    if (r === HOST_COW) {
      this.notifier.zapHva(host.cowStart, host.cowPages);
      this.counters[M.faults_cow]!++;
      this.counters[M.faults]!++;
    }
    return r !== HOST_RO;
  }

  /** The entry at `level` over gfn is a table made for an instruction fetch (nx_huge_page_disallowed). */
  private isNxTable(gfn: number, level: number): boolean {
    const t = this.stage2.tableAt(gfn, level);
    return t >= 0 && this.stage2.nxDisallowed[t] === 1;
  }

  /**
   * An instruction fetch under the NX mitigation mapped gfn at 4K: the tables over it at the 2M and
   * 1G levels are marked nx_huge_page_disallowed (the model marks them whether this fault made them
   * or found them; the kernel marks the ones it allocates).
   */
  private markNxTables(gfn: number): void {
    for (let level = LEVEL_2M; level <= LEVEL_1G; level++) {
      const t = this.stage2.tableAt(gfn, level);
      if (t >= 0) this.stage2.nxDisallowed[t] = 1;
    }
  }

  /**
   * arm64: a fault on a leaf already at the level being mapped is a permission fault, which only adds
   * permissions (kvm_pgtable_stage2_relax_perms()); an instruction fetch that makes a page executable
   * this way is counted (it exists only without FEAT_DIC).
   */
  private arm64PermissionFault(gfn: number, level: number, kind: number, perms: number): number {
    const old = this.stage2.lookup(gfn);
    if (!isLeaf(old) || pteLevel(old) !== level) return perms;
    if (kind === ACCESS_EXEC && (old & PTE_X) === 0) this.counters[M.faults_exec_perm]!++;
    return perms | (old & (PTE_W | PTE_X));
  }

  /**
   * No memslot. x86: a private fault is a memory-fault exit before anything can make it MMIO
   * (kvm_mmu_faultin_pfn(), kvm_handle_noslot_fault(); docs/kvm-rules.md, x86.private-noslot).
   */
  private noSlot(kind: number, flags: number): number {
    if ((flags & ACCESS_PRIVATE) !== 0 && !this.arm64) {
      this.counters[M.exits_memfault]!++;
      return OUTCOME_MEMFAULT;
    }
    return this.unbacked(kind, flags);
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
   * The largest level <= maxLevel at which gfn may be mapped given its slot (kvm_mmu_max_mapping_level()):
   * the huge range wholly inside the slot, gfn congruent with the hva (or the guest_memfd offset for
   * private memory) modulo the huge size (kvm_alloc_memslot_metadata()'s disallow_lpage), and the range
   * not of mixed private/shared attributes.
   */
  maxMappingLevel(id: number, gfn: number, hvaPfn: number, priv: boolean, maxLevel: number): number {
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
}
