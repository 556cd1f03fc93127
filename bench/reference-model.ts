// A deliberately simple model of the same rules as the core, as the benchmark's baseline and for the
// differential test (test/core/differential.property.test.ts): Maps and plain objects, no typed arrays, no tree. It covers the x86-tdp
// profile with eager page split, no private memory, no userfaultfd. Leaves are keyed "level:gfn".
// The version- and hardware-dependent x86 rules (docs/kvm-rules.md) are options: zap-all on slot
// delete/move, huge pages rebuilt in place when logging stops, PML's D-bit logging, a write to the
// huge zero page allocating a THP. Host pages are a Map per 4K page (common.host-pages): missing,
// the zero page (read-only), or present; read faults map writable when the host page is
// (x86.read-fault-writable).

import { ERRNO, KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY } from '../src/core/abi.js';
import { BACKING_HUGETLB_1G, BACKING_HUGETLB_2M, BACKING_SHMEM, BACKING_THP } from '../src/core/hostmm.js';
import { ACCESS_WRITE, OUTCOME_MMIO, OUTCOME_OK } from '../src/core/outcome.js';

interface Slot {
  base: number;
  npages: number;
  flags: number;
  hva: number; // page number
  dirty: Set<number> | null;
}

interface Leaf {
  level: number;
  gfn: number; // aligned
  w: boolean;
  d: boolean;
}

export interface ReferenceRules {
  /** Deleting or moving a slot zaps every leaf of the VM (x86.slot-zap-all). */
  zapAll: boolean;
  /** Logging off rebuilds huge leaves in place (x86.recover-huge, 6.13+); else collapsible leaves are zapped. */
  recover: boolean;
  /** Intel PML: logging clears D bits of 4K leaves; writes to clean writable leaves are logged without a fault. */
  pml: boolean;
  /** A write to the huge zero page allocates a THP (6.13+); else the zero pmd splits to 4K. */
  hugeZeroThp: boolean;
}

const ZERO = 1;
const PRESENT = 2;

const PAGES = [1, 512, 512 * 512];

export class ReferenceVm {
  readonly slots = new Map<number, Slot>();
  readonly leaves = new Map<string, Leaf>();
  readonly backings: { start: number; end: number; kind: number }[] = [];
  /** Host page state by hva page: ZERO or PRESENT; absent pages are missing. */
  readonly host = new Map<number, number>();
  /** 2M-aligned hva pages of THP ranges the host maps with 4K ptes. */
  readonly smallThp = new Set<number>();
  readonly c: Record<string, number> = {
    faults: 0,
    'faults.fixed': 0,
    'faults.spurious': 0,
    'faults.wp': 0,
    'exits.mmio': 0,
    'leaves.4k': 0,
    'leaves.2m': 0,
    'leaves.1g': 0,
    splits: 0,
    zaps: 0,
    'dirty.pages': 0,
    recovered: 0,
    'faults.cow': 0,
  };

  constructor(readonly rules: ReferenceRules = { zapAll: false, recover: false, pml: false, hugeZeroThp: true }) {}

  counters(): Record<string, number> {
    const mapped = [0, 0, 0];
    for (const leaf of this.leaves.values()) mapped[leaf.level]! += PAGES[leaf.level]! * 4096;
    return { ...this.c, 'mapped.4k': mapped[0]!, 'mapped.2m': mapped[1]!, 'mapped.1g': mapped[2]! };
  }

  setBacking(hvaPage: number, npages: number, kind: number): void {
    this.backings.push({ start: hvaPage, end: hvaPage + npages, kind });
  }

  setUserMemoryRegion(id: number, flags: number, gpa: number, size: number, hva: number): number {
    if ((flags & ~(KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY)) !== 0) return -ERRNO.EINVAL;
    if (id >= 32764 || size % 4096 !== 0 || gpa % 4096 !== 0 || hva % 4096 !== 0) return -ERRNO.EINVAL;
    const old = this.slots.get(id);
    if (size === 0) {
      if (old === undefined) return -ERRNO.EINVAL;
      this.zapSlot(old);
      this.slots.delete(id);
      return 0;
    }
    const base = gpa / 4096;
    const npages = size / 4096;
    const hvaPage = hva / 4096;
    const overlaps = (): boolean =>
      [...this.slots].some(([other, s]) => other !== id && s.base < base + npages && base < s.base + s.npages);
    if (old === undefined) {
      if (overlaps()) return -ERRNO.EEXIST;
      const logging = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
      this.slots.set(id, { base, npages, flags, hva: hvaPage, dirty: logging ? new Set() : null });
      return 0;
    }
    if (old.hva !== hvaPage || old.npages !== npages || ((old.flags ^ flags) & KVM_MEM_READONLY) !== 0) {
      return -ERRNO.EINVAL;
    }
    if (old.base !== base) {
      if (overlaps()) return -ERRNO.EEXIST;
      this.zapSlot(old);
      old.base = base;
    } else if (old.flags === flags) {
      return 0;
    }
    const was = old.dirty !== null;
    const logging = (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0;
    old.flags = flags;
    if (logging && !was) {
      old.dirty = new Set();
      for (const leaf of [...this.leaves.values()]) {
        if (leaf.gfn >= old.base + old.npages || leaf.gfn + PAGES[leaf.level]! <= old.base) continue;
        this.splitDown(leaf);
      }
      for (const leaf of this.leaves.values()) {
        if (leaf.gfn < old.base || leaf.gfn >= old.base + old.npages) continue;
        if (!this.rules.pml) leaf.w = false;
        else if (leaf.level === 0) leaf.d = false;
        else leaf.w = false;
      }
    } else if (!logging && was) {
      old.dirty = null;
      if (this.rules.recover) {
        this.recover(old);
      } else {
        for (let g = old.base - (old.base % 512); g < old.base + old.npages; g += 512) {
          const probe = Math.max(g, old.base);
          if (this.maxLevel(old, probe) > 0) this.zap(g, g + 512);
        }
      }
    }
    return 0;
  }

  getDirtyLog(id: number): number {
    const slot = this.slots.get(id);
    if (slot === undefined || slot.dirty === null) return -ERRNO.ENOENT;
    const pages = [...slot.dirty];
    slot.dirty.clear();
    for (const page of pages) {
      const leaf = this.leafAt(slot.base + page);
      if (leaf === undefined) continue;
      if (!this.rules.pml) leaf.w = false;
      else if (leaf.level === 0) leaf.d = false;
    }
    return pages.length;
  }

  unmapHva(hvaPage: number, npages: number): void {
    const end = hvaPage + npages;
    // A populated THP discarded in part keeps the rest with 4K ptes; discarded whole, it may be huge again.
    for (let pmd = hvaPage - (hvaPage % 512); pmd < end; pmd += 512) {
      if (pmd >= hvaPage && pmd + 512 <= end) this.smallThp.delete(pmd);
      else if (this.hostLevel(pmd) === 1 && [...Array(512).keys()].some((i) => this.host.has(pmd + i))) this.smallThp.add(pmd);
    }
    for (let p = hvaPage; p < end; p++) this.host.delete(p);
    this.zapHva(hvaPage, npages);
  }

  private zapHva(hvaPage: number, npages: number): void {
    for (const slot of this.slots.values()) {
      const from = Math.max(hvaPage, slot.hva);
      const to = Math.min(hvaPage + npages, slot.hva + slot.npages);
      if (from < to) this.zap(slot.base + from - slot.hva, slot.base + to - slot.hva);
    }
  }

  access(gfn: number, kind: number): number {
    const write = kind === ACCESS_WRITE;
    const leaf = this.leafAt(gfn);
    if (leaf !== undefined && (!write || leaf.w)) {
      if (write && !leaf.d) {
        // The CPU sets D; with PML it also logs the page.
        leaf.d = true;
        const slot = this.slotOf(gfn);
        if (this.rules.pml && slot?.dirty) this.markDirty(slot, gfn);
      }
      return OUTCOME_OK;
    }
    this.c['faults']!++;
    const slot = this.slotOf(gfn);
    if (slot === undefined || (write && (slot.flags & KVM_MEM_READONLY) !== 0)) {
      this.c['exits.mmio']!++;
      return OUTCOME_MMIO;
    }
    const logging = slot.dirty !== null;
    const hostWritable = this.touchHost(slot.hva + (gfn - slot.base), write);
    const level = logging ? 0 : this.maxLevel(slot, gfn);
    // x86 maps a read fault writable when the host page is, logging or not.
    const w = (slot.flags & KVM_MEM_READONLY) === 0 && hostWritable;
    let cover = this.leafAt(gfn);
    if (logging && write && cover !== undefined && !cover.w) this.c['faults.wp']!++;
    while (cover !== undefined && cover.level > level) {
      this.splitOnce(cover);
      cover = this.leafAt(gfn);
    }
    const aligned = gfn - (gfn % PAGES[level]!);
    if (cover !== undefined && cover.level === level) {
      if (cover.w === w || (cover.w && !w)) {
        // Nothing to add: the mapping already allows what this fault would map.
        if (cover.w === w) this.c['faults.spurious']!++;
        else this.c['faults.fixed']!++;
      } else {
        cover.w = w;
        this.c['faults.fixed']!++;
      }
      cover.d ||= write || (logging && w);
    } else {
      // Smaller leaves under a new huge one go first (a 4K leaf has none under it).
      if (level > 0) this.zap(aligned, aligned + PAGES[level]!);
      this.leaves.set(`${level}:${aligned}`, { level, gfn: aligned, w, d: write || (logging && w) });
      this.c['faults.fixed']!++;
      this.c[['leaves.4k', 'leaves.2m', 'leaves.1g'][level]!]!++;
    }
    if (logging && w) this.markDirty(slot, gfn);
    return OUTCOME_OK;
  }

  /** The VMM reads or writes [hvaPage, hvaPage + npages) through its own mapping. */
  hostAccess(hvaPage: number, npages: number, write: boolean): void {
    for (let p = hvaPage; p < hvaPage + npages; p++) this.touchHost(p, write, false);
  }

  /** The host's side of a fault at hva page `hva`: populate; whether the host maps it writable. */
  private touchHost(hva: number, write: boolean, guest = true): boolean {
    const state = this.host.get(hva);
    if (state === PRESENT) return true;
    if (state === ZERO && !write) return false;
    const level = this.hostLevel(hva);
    const pages = PAGES[level]!;
    const start = hva - (hva % pages);
    const fill = (from: number, n: number, value: number): void => {
      for (let p = from; p < from + n; p++) this.host.set(p, value);
    };
    if (state === undefined) {
      const backing = this.backings.find((b) => hva >= b.start && hva < b.end);
      const noZeroPage = backing !== undefined && (backing.kind & (BACKING_HUGETLB_2M | BACKING_HUGETLB_1G | BACKING_SHMEM)) !== 0;
      fill(start, pages, write || noZeroPage ? PRESENT : ZERO);
      return write || noZeroPage;
    }
    // Copy-on-write of a zero page: the notifier zaps its mappings, the fault retries.
    this.zapHva(start, pages);
    if (guest) {
      this.c['faults.cow']!++;
      this.c['faults']!++;
    }
    if (level > 0 && !this.rules.hugeZeroThp) {
      this.smallThp.add(start);
      this.host.set(hva, PRESENT);
    } else {
      fill(start, pages, PRESENT);
    }
    return true;
  }

  /** The host's page size at hva page `hva` (0: 4K, 1: 2M, 2: 1G). */
  private hostLevel(hva: number): number {
    const backing = this.backings.find((b) => hva >= b.start && hva < b.end);
    let level = 0;
    if (backing !== undefined) {
      if (backing.kind & BACKING_HUGETLB_1G) level = 2;
      else if (backing.kind & (BACKING_HUGETLB_2M | BACKING_THP)) level = 1;
    }
    for (; level > 0; level--) {
      const pages = PAGES[level]!;
      const alignedHva = hva - (hva % pages);
      if (backing !== undefined && alignedHva >= backing.start && alignedHva + pages <= backing.end) break;
    }
    if (level === 1 && this.smallThp.has(hva - (hva % 512))) return 0;
    return level;
  }

  private slotOf(gfn: number): Slot | undefined {
    return [...this.slots.values()].find((s) => gfn >= s.base && gfn < s.base + s.npages);
  }

  private markDirty(slot: Slot, gfn: number): void {
    const page = gfn - slot.base;
    if (!slot.dirty!.has(page)) this.c['dirty.pages']!++;
    slot.dirty!.add(page);
  }

  private zapSlot(slot: Slot): void {
    if (this.rules.zapAll) this.zap(0, Number.MAX_SAFE_INTEGER);
    else this.zap(slot.base, slot.base + slot.npages);
  }

  /** Rebuild huge leaves in place: 1G ranges first, then the 2M ranges of those that stay small. */
  private recover(slot: Slot): void {
    const end = slot.base + slot.npages;
    for (const level of [2, 1]) {
      const pages = PAGES[level]!;
      for (let g = slot.base + ((pages - (slot.base % pages)) % pages); g < end; g += pages) {
        const small = [...this.leaves.values()].filter((l) => l.level < level && l.gfn >= g && l.gfn < g + pages);
        if (small.length === 0 || this.maxLevel(slot, g) < level) continue;
        const first = small.reduce((a, b) => (b.gfn < a.gfn ? b : a));
        for (const l of small) this.leaves.delete(`${l.level}:${l.gfn}`);
        this.leaves.set(`${level}:${g}`, { level, gfn: g, w: first.w, d: first.d });
        this.c['recovered']!++;
      }
    }
  }

  private maxLevel(slot: Slot, gfn: number): number {
    let level = this.hostLevel(slot.hva + (gfn - slot.base));
    for (; level > 0; level--) {
      const pages = PAGES[level]!;
      const aligned = gfn - (gfn % pages);
      const inSlot = aligned >= slot.base && aligned + pages <= slot.base + slot.npages;
      if (inSlot && (slot.base - slot.hva) % pages === 0) break;
    }
    return level;
  }

  private leafAt(gfn: number): Leaf | undefined {
    for (let level = 0; level < 3; level++) {
      const leaf = this.leaves.get(`${level}:${gfn - (gfn % PAGES[level]!)}`);
      if (leaf !== undefined) return leaf;
    }
    return undefined;
  }

  private splitOnce(leaf: Leaf): void {
    this.leaves.delete(`${leaf.level}:${leaf.gfn}`);
    const level = leaf.level - 1;
    for (let i = 0; i < 512; i++) {
      const gfn = leaf.gfn + i * PAGES[level]!;
      this.leaves.set(`${level}:${gfn}`, { level, gfn, w: leaf.w, d: leaf.d });
    }
    this.c['splits']!++;
  }

  private splitDown(leaf: Leaf): void {
    if (leaf.level === 0) return;
    this.splitOnce(leaf);
    for (let i = 0; i < 512; i++) {
      const child = this.leaves.get(`${leaf.level - 1}:${leaf.gfn + i * PAGES[leaf.level - 1]!}`);
      if (child !== undefined) this.splitDown(child);
    }
  }

  private zap(start: number, end: number): void {
    for (const [key, leaf] of this.leaves) {
      if (leaf.gfn < end && start < leaf.gfn + PAGES[leaf.level]!) {
        this.leaves.delete(key);
        this.c['zaps']!++;
      }
    }
  }
}
