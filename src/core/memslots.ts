// The memslot table of one address space: slot data indexed by slot id, a copy sorted by base gfn for
// lookup by binary search, and a per-vCPU last-used-slot cache (KVM's search_memslots() and
// last_used_slot). Validation of KVM_SET_USER_MEMORY_REGION2 lives in ./memslot-check.ts.

import { KVM_MEM_LOG_DIRTY_PAGES, KVM_USER_MEM_SLOTS } from './abi.js';
import { DirtyBitmap } from './dirty-bitmap.js';

/** vCPUs that get a last_used_slot cache entry; others search every time. */
export const MAX_CACHED_VCPUS = 4096;

export class Memslots {
  readonly used = new Uint8Array(KVM_USER_MEM_SLOTS);
  readonly baseGfn = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly npages = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly flags = new Int32Array(KVM_USER_MEM_SLOTS);
  /** userspace_addr >> PAGE_SHIFT (page aligned, so exact). */
  readonly hvaPfn = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly gmemFd = new Int32Array(KVM_USER_MEM_SLOTS).fill(-1);
  /** guest_memfd_offset >> PAGE_SHIFT. */
  readonly gmemPgoff = new Float64Array(KVM_USER_MEM_SLOTS);
  /** Dirty bitmap per slot (sparse, ./dirty-bitmap.ts), or undefined when the slot does not log. */
  readonly dirtyBitmap: Array<DirtyBitmap | undefined> = new Array<DirtyBitmap | undefined>(KVM_USER_MEM_SLOTS).fill(undefined);

  // Sorted by base gfn: the gfn tree.
  readonly sortedBase = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly sortedEnd = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly sortedId = new Int32Array(KVM_USER_MEM_SLOTS);
  count = 0;
  /** kvm->nr_memslot_pages. */
  nrPages = 0;

  readonly lastUsed = new Int32Array(MAX_CACHED_VCPUS).fill(-1);

  /** The slot id mapping `gfn`, or -1. Hot path. */
  lookup(vcpu: number, gfn: number): number {
    if (vcpu < MAX_CACHED_VCPUS) {
      const cached = this.lastUsed[vcpu]!;
      if (cached >= 0) {
        // The slot's base is loaded once: gfn is in [base, base + npages) when 0 <= gfn - base < npages.
        const off = gfn - this.baseGfn[cached]!;
        if (off >= 0 && off < this.npages[cached]!) return cached;
      }
    }
    const id = this.search(gfn);
    if (id >= 0 && vcpu < MAX_CACHED_VCPUS) this.lastUsed[vcpu] = id;
    return id;
  }

  /** Binary search of the sorted slots: the last slot starting at or below gfn, if it covers gfn. */
  search(gfn: number): number {
    const base = this.sortedBase;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (base[mid]! <= gfn) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return -1;
    return gfn < this.sortedEnd[lo - 1]! ? this.sortedId[lo - 1]! : -1;
  }

  /** Whether a slot other than `id` overlaps gfns [start, end) (kvm_check_memslot_overlap()). */
  overlaps(id: number, start: number, end: number): boolean {
    const base = this.sortedBase;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (base[mid]! < end) lo = mid + 1;
      else hi = mid;
    }
    // Slots [0, lo) start below `end`; walk back while they can still reach `start`.
    for (let i = lo - 1; i >= 0; i--) {
      if (this.sortedEnd[i]! > start && this.sortedId[i] !== id) return true;
      // Slots do not overlap each other, so ends are sorted too: once one ends at or below start, all do.
      if (this.sortedEnd[i]! <= start) return false;
    }
    return false;
  }

  /** `initiallySet`: a new dirty bitmap starts all set (KVM_DIRTY_LOG_INITIALLY_SET). */
  install(id: number, baseGfn: number, npages: number, flags: number, hvaPfn: number, initiallySet = false): void {
    this.used[id] = 1;
    this.baseGfn[id] = baseGfn;
    this.npages[id] = npages;
    this.flags[id] = flags;
    this.hvaPfn[id] = hvaPfn;
    this.nrPages += npages;
    this.insertSorted(id);
    this.setLogging(id, (flags & KVM_MEM_LOG_DIRTY_PAGES) !== 0, initiallySet);
  }

  remove(id: number): void {
    this.removeSorted(id);
    this.used[id] = 0;
    this.nrPages -= this.npages[id]!;
    this.npages[id] = 0;
    this.flags[id] = 0;
    this.gmemFd[id] = -1;
    this.dirtyBitmap[id] = undefined;
    this.forgetCached(id);
  }

  move(id: number, baseGfn: number): void {
    this.removeSorted(id);
    this.baseGfn[id] = baseGfn;
    this.insertSorted(id);
    this.forgetCached(id);
  }

  /**
   * Allocate (clear, or all set with `initiallySet`) or drop the dirty bitmap; an existing bitmap is
   * kept, as KVM reuses it (kvm_prepare_memory_region(): kvm_alloc_dirty_bitmap(), then bitmap_set()
   * when kvm_dirty_log_manual_protect_and_init_set()).
   */
  setLogging(id: number, on: boolean, initiallySet = false): void {
    if (!on) this.dirtyBitmap[id] = undefined;
    else if (this.dirtyBitmap[id] === undefined) {
      const bitmap = new DirtyBitmap(this.npages[id]!);
      if (initiallySet) bitmap.setAll();
      this.dirtyBitmap[id] = bitmap;
    }
  }

  /** Bytes of the dirty bitmaps (src/core/model-memory.ts). */
  bitmapBytes(): number {
    let n = 0;
    for (const bitmap of this.dirtyBitmap) if (bitmap !== undefined) n += bitmap.bytes();
    return n;
  }

  isLogging(id: number): boolean {
    return this.dirtyBitmap[id] !== undefined;
  }

  private forgetCached(id: number): void {
    const cache = this.lastUsed;
    for (let i = 0; i < cache.length; i++) if (cache[i] === id) cache[i] = -1;
  }

  private insertSorted(id: number): void {
    const base = this.baseGfn[id]!;
    let i = this.count;
    while (i > 0 && this.sortedBase[i - 1]! > base) {
      this.sortedBase[i] = this.sortedBase[i - 1]!;
      this.sortedEnd[i] = this.sortedEnd[i - 1]!;
      this.sortedId[i] = this.sortedId[i - 1]!;
      i--;
    }
    this.sortedBase[i] = base;
    this.sortedEnd[i] = base + this.npages[id]!;
    this.sortedId[i] = id;
    this.count++;
  }

  private removeSorted(id: number): void {
    let i = 0;
    while (i < this.count && this.sortedId[i] !== id) i++;
    if (i === this.count) return;
    this.sortedBase.copyWithin(i, i + 1, this.count);
    this.sortedEnd.copyWithin(i, i + 1, this.count);
    this.sortedId.copyWithin(i, i + 1, this.count);
    this.count--;
  }
}
