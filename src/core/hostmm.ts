// The host side of guest memory, as far as stage-2 decisions depend on it: what backs each hva range
// (anonymous 4K, THP, hugetlb 2M/1G, shmem) and which ranges are registered with userfaultfd and not
// yet populated. Ranges are few and change on cold paths; lookups happen only on faults.

import { RangeMap } from './range-map.js';
import { LEVEL_1G, LEVEL_2M, LEVEL_4K, LEVEL_PAGES } from './stage2/pte.js';

// Backing kinds as bits; the same values as the trace's `backing` flags (trace/schema.ts).
export const BACKING_ANON = 1 << 0;
export const BACKING_THP = 1 << 1;
export const BACKING_HUGETLB_2M = 1 << 2;
export const BACKING_HUGETLB_1G = 1 << 3;
export const BACKING_SHMEM = 1 << 4;

/** uffd registration flag: the handler fills one page per fault instead of the whole range. */
export const UFFD_PAGE = 1 << 0;

/** The largest page the host can map for a backing kind (host_pfn_mapping_level()'s answer). */
export function backingLevel(kind: number): number {
  if ((kind & BACKING_HUGETLB_1G) !== 0) return LEVEL_1G;
  if ((kind & BACKING_HUGETLB_2M) !== 0) return LEVEL_2M;
  if ((kind & BACKING_THP) !== 0) return LEVEL_2M; // anon THP, or shmem with huge pages enabled
  return LEVEL_4K;
}

export class HostMemory {
  // Backing intervals [start, end) in hva page numbers, sorted, non-overlapping.
  private bStart: number[] = [];
  private bEnd: number[] = [];
  private bKind: number[] = [];
  /** Backing intervals whose kind allows a huge page: while there is none, every fault maps 4K. */
  private hugeBackings = 0;
  // userfaultfd registrations sorted by start, for a binary search; valid while none overlap.
  private uSorted: number[] = [];
  private uDisjoint = true;
  // userfaultfd registrations.
  private uStart: number[] = [];
  private uPages: number[] = [];
  private uFlags: number[] = [];
  // Populated pages of each registration, by hva pfn (value 1): runs, not a byte per page, so a huge
  // registration costs what the trace touches of it.
  private uPopulated: RangeMap[] = [];
  uffdCount = 0;

  /** Bytes of the userfaultfd registrations' populated-page maps (src/core/model-memory.ts). */
  bytes(): number {
    let n = 0;
    for (const populated of this.uPopulated) n += populated.bytes();
    return n;
  }

  /** `backing`: describe [hvaPfn, hvaPfn + npages); replaces what was said before about that range. */
  setBacking(hvaPfn: number, npages: number, kind: number): void {
    const end = hvaPfn + npages;
    const starts: number[] = [];
    const ends: number[] = [];
    const kinds: number[] = [];
    for (let i = 0; i < this.bStart.length; i++) {
      const s = this.bStart[i]!;
      const e = this.bEnd[i]!;
      const k = this.bKind[i]!;
      if (e <= hvaPfn || s >= end) {
        starts.push(s);
        ends.push(e);
        kinds.push(k);
        continue;
      }
      if (s < hvaPfn) {
        starts.push(s);
        ends.push(hvaPfn);
        kinds.push(k);
      }
      if (e > end) {
        starts.push(end);
        ends.push(e);
        kinds.push(k);
      }
    }
    starts.push(hvaPfn);
    ends.push(end);
    kinds.push(kind);
    const order = starts.map((_, i) => i).sort((a, b) => starts[a]! - starts[b]!);
    this.bStart = order.map((i) => starts[i]!);
    this.bEnd = order.map((i) => ends[i]!);
    this.bKind = order.map((i) => kinds[i]!);
    this.hugeBackings = this.bKind.filter((k) => backingLevel(k) > LEVEL_4K).length;
  }

  /**
   * The largest level (up to `maxLevel`) at which the host maps the page at hvaPfn: the backing's page
   * size, and the huge page's whole aligned hva range inside that backing. Unknown ranges are
   * anonymous 4K memory.
   */
  hostLevel(hvaPfn: number, maxLevel: number): number {
    // 4K-only backings: no search (and unknown ranges are 4K too).
    if (this.hugeBackings === 0) return LEVEL_4K;
    const starts = this.bStart;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= hvaPfn) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0 || hvaPfn >= this.bEnd[lo - 1]!) return LEVEL_4K;
    const s = starts[lo - 1]!;
    const e = this.bEnd[lo - 1]!;
    let level = Math.min(maxLevel, backingLevel(this.bKind[lo - 1]!));
    while (level > LEVEL_4K) {
      const pages = LEVEL_PAGES[level]!;
      const aligned = hvaPfn - (hvaPfn % pages);
      if (aligned >= s && aligned + pages <= e) break;
      level--;
    }
    return level;
  }

  registerUffd(hvaPfn: number, npages: number, flags: number): void {
    this.uStart.push(hvaPfn);
    this.uPages.push(npages);
    this.uFlags.push(flags);
    this.uPopulated.push(new RangeMap());
    const id = this.uffdCount++;
    // Keep the registrations sorted by start; note whether any two overlap (then the linear scan in
    // registration order decides, as before).
    let at = this.uSorted.length;
    while (at > 0 && this.uStart[this.uSorted[at - 1]!]! > hvaPfn) at--;
    this.uSorted.splice(at, 0, id);
    const prev = at > 0 ? this.uSorted[at - 1]! : -1;
    const next = at + 1 < this.uSorted.length ? this.uSorted[at + 1]! : -1;
    if (prev >= 0 && this.uStart[prev]! + this.uPages[prev]! > hvaPfn) this.uDisjoint = false;
    if (next >= 0 && hvaPfn + npages > this.uStart[next]!) this.uDisjoint = false;
  }

  /** The registration whose range holds hvaPfn with that page missing, or -1. */
  uffdMissing(hvaPfn: number): number {
    if (this.uDisjoint) {
      // At most one registration holds hvaPfn: the last one starting at or below it.
      const sorted = this.uSorted;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.uStart[sorted[mid]!]! <= hvaPfn) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) return -1;
      const i = sorted[lo - 1]!;
      const off = hvaPfn - this.uStart[i]!;
      return off < this.uPages[i]! && this.uPopulated[i]!.find(hvaPfn) < 0 ? i : -1;
    }
    for (let i = 0; i < this.uffdCount; i++) {
      const off = hvaPfn - this.uStart[i]!;
      if (off >= 0 && off < this.uPages[i]! && this.uPopulated[i]!.find(hvaPfn) < 0) return i;
    }
    return -1;
  }

  /** The userfaultfd handler resolves a fault: the whole range (UFFDIO_COPY of it all) or one page. */
  uffdFill(reg: number, hvaPfn: number): void {
    const populated = this.uPopulated[reg]!;
    if ((this.uFlags[reg]! & UFFD_PAGE) !== 0) populated.set(hvaPfn, hvaPfn + 1, 1);
    else populated.set(this.uStart[reg]!, this.uStart[reg]! + this.uPages[reg]!, 1);
  }

  /** MADV_DONTNEED / hole punch: registered pages in the range are missing again. */
  unmap(hvaPfn: number, npages: number): void {
    const end = hvaPfn + npages;
    for (let i = 0; i < this.uffdCount; i++) {
      const s = this.uStart[i]!;
      const from = Math.max(s, hvaPfn);
      const to = Math.min(s + this.uPages[i]!, end);
      if (from < to) this.uPopulated[i]!.set(from, to, 0);
    }
  }
}
