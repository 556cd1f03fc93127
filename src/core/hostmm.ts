// The host side of guest memory, as far as stage-2 decisions depend on it: what backs each hva range
// (anonymous 4K, THP, hugetlb 2M/1G, shmem), which host pages are populated and how (the zero page or
// a page of their own), and which ranges are registered with userfaultfd. Backing ranges are few and
// change on cold paths; page state is kept per 2M block (./page-states.ts), so a fault costs one
// hash lookup, never a walk over a huge range (docs/kvm-rules.md, common.host-pages).

import { PageStates } from './page-states.js';
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

// Host page state of an hva page. Every page starts missing (never touched, or MADV_DONTNEED'd).
/** Never touched or discarded: a userfaultfd-registered page faults to its handler. */
export const HOST_MISSING = 0;
/** Mapped to the shared zero page (or the huge zero page) by a read: read-only in the host. */
export const HOST_ZERO = 1;
/** A page of its own (written, or hugetlb/shmem/userfaultfd-filled): writable in the host. */
export const HOST_PRESENT = 2;

// What a fault's host lookup (hva_to_pfn()) found, for the stage-2 mapping it makes.
/** The host maps the page read-only (a zero page): the stage-2 mapping is read-only. */
export const HOST_RO = 0;
/** The host maps the page writable. */
export const HOST_RW = 1;
/**
 * A write broke copy-on-write of a zero page: the host mm invalidated [cowStart, cowStart + cowPages)
 * through the mmu notifier before the new page was mapped writable.
 */
export const HOST_COW = 2;

/** Backings whose read fault allocates a page: hugetlb has no zero page, and shmem allocates on a read of a hole. */
const NO_ZERO_PAGE = BACKING_HUGETLB_2M | BACKING_HUGETLB_1G | BACKING_SHMEM;

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
  /**
   * Backing intervals whose kind allows a huge page: while there is none, every fault maps 4K. Read by
   * the fault path before it calls hostLevel(): a call that is not inlined boxes its hva page number
   * (past 2^31, a heap number), an allocation per fault.
   */
  hugeBackings = 0;
  // userfaultfd registrations sorted by start, for a binary search; valid while none overlap.
  private uSorted: number[] = [];
  private uDisjoint = true;
  /** The registration uffdMissing() last found holding a page (registrations are never removed), or -1. */
  private uLast = -1;
  // userfaultfd registrations.
  private uStart: number[] = [];
  private uPages: number[] = [];
  private uFlags: number[] = [];
  uffdCount = 0;
  /** HOST_* state of every hva page (HOST_MISSING until set): per-2M bitmaps, as random first touches make it dense. */
  private readonly pages = new PageStates();
  /**
   * THP ranges (2M-aligned) the host maps with 4K ptes: a huge zero page split by a write before 6.13,
   * or a THP partly discarded. Faults there map 4K until the whole range is discarded.
   */
  private readonly smallThp = new RangeMap();
  // Fill cursor: missing pages filled in order extend [cursorStart, cursor) with one compare (docs in
  // writeNext() and uffdNext()); cursorLimit is the first page past the cursor that the map already holds, or that is
  // past the userfaultfd registration the cursor fills. NaN (equal to no page) rather than -1: hva
  // page numbers are past 2^31, so a small-integer start would change the fields' representation at
  // the first write and deoptimise the fault path. What fills the cursor's pages follows from uffdCount,
  // which only grows, and a registration ends the cursor (registerUffd()): writes to fresh 4K pages
  // while no userfaultfd range is registered, the registrations' handlers (UFFDIO_COPY) after.
  private cursorStart = NaN;
  private cursor = NaN;
  private cursorLimit = NaN;
  /** The range a HOST_COW answer invalidated. */
  cowStart = 0;
  cowPages = 0;

  /** Bytes of the host page state's runs (src/core/model-memory.ts). */
  bytes(): number {
    return this.pages.bytes() + this.smallThp.bytes();
  }

  /** `backing`: describe [hvaPfn, hvaPfn + npages); replaces what was said before about that range. */
  setBacking(hvaPfn: number, npages: number, kind: number): void {
    this.synced(); // the write cursor holds only while no backing is huge
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
    const b = this.backingIndex(hvaPfn);
    if (b < 0) return LEVEL_4K;
    const s = this.bStart[b]!;
    const e = this.bEnd[b]!;
    let level = Math.min(maxLevel, backingLevel(this.bKind[b]!));
    while (level > LEVEL_4K) {
      const pages = LEVEL_PAGES[level]!;
      const aligned = hvaPfn - (hvaPfn % pages);
      if (aligned >= s && aligned + pages <= e) break;
      level--;
    }
    if (level === LEVEL_2M && this.smallThp.count > 0 && this.smallThp.get(hvaPfn) !== 0) return LEVEL_4K;
    return level;
  }

  /** The backing interval holding hvaPfn, or -1. */
  private backingIndex(hvaPfn: number): number {
    const starts = this.bStart;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= hvaPfn) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 || hvaPfn >= this.bEnd[lo - 1]! ? -1 : lo - 1;
  }

  /** The backing kind at hvaPfn (BACKING_ANON where no `backing` row said anything). */
  private kindAt(hvaPfn: number): number {
    const b = this.backingIndex(hvaPfn);
    return b < 0 ? BACKING_ANON : this.bKind[b]!;
  }

  /**
   * A write to the 4K page right after the last one written, which is missing: populated with one
   * check (writes walking fresh memory in order), as touch() would. False when that shortcut does not
   * apply. Only while no userfaultfd range is registered (uffdCount 0): the cursor is then a write one.
   */
  writeNext(hvaPfn: number): boolean {
    if (hvaPfn !== this.cursor || hvaPfn >= this.cursorLimit) return false;
    this.cursor = hvaPfn + 1;
    return true;
  }

  /**
   * An access to the page right after the last one a userfaultfd cursor filled, which is missing: it
   * faults to its handler, which fills it (whatever the access), with one check, as uffdFault() would.
   * False when that shortcut does not apply. Small enough to be inlined: a call would box the hva page
   * number.
   */
  uffdNext(hvaPfn: number): boolean {
    if (hvaPfn !== this.cursor || hvaPfn >= this.cursorLimit || this.uffdCount === 0) return false;
    this.cursor = hvaPfn + 1;
    return true;
  }

  /**
   * The page map with the cursor's run written into it. Every use of `pages` but the cursor's goes
   * through here, so the cursor is only a deferred PageStates.set() of [cursorStart, cursor).
   */
  private synced(): PageStates {
    if (this.cursor > this.cursorStart) this.pages.set(this.cursorStart, this.cursor, HOST_PRESENT);
    this.cursorStart = this.cursor = this.cursorLimit = NaN;
    return this.pages;
  }

  /**
   * Start the cursor at the missing page hvaPfn, just filled: it runs to the first page held after it
   * within this 2M block (a look beyond would cost a scan of the held blocks; the next block starts a
   * new cursor), and not past `limit`.
   */
  private startCursor(hvaPfn: number, limit: number): void {
    const blockEnd = hvaPfn - (hvaPfn % 512) + 512;
    const pages = this.synced();
    this.cursorStart = hvaPfn;
    this.cursor = hvaPfn + 1;
    this.cursorLimit = pages.sameUntil(hvaPfn, Math.min(blockEnd, limit));
  }

  /** HOST_* state of the page at hvaPfn. */
  pageState(hvaPfn: number): number {
    return this.synced().get(hvaPfn);
  }

  /**
   * A fault reaches the host page at hvaPfn (hva_to_pfn(): get_user_pages(), with FOLL_WRITE for a
   * write, then for a read "map read fault as writable if possible"): populate it as the host mm does
   * and say how the host maps it (HOST_RO, HOST_RW, or HOST_COW with the range the host invalidated).
   * docs/kvm-rules.md, common.host-pages.
   *   - anonymous read of a missing page: the zero page (do_anonymous_page()), or on THP the huge zero
   *     page over the 2M range (do_huge_pmd_anonymous_page()); read-only.
   *   - hugetlb and shmem have no zero page: a read allocates (hugetlb_no_page(), shmem_fault()).
   *   - a write to a zero page copies (do_wp_page()); on the huge zero page 6.13+ allocates a THP
   *     (do_huge_zero_wp_pmd()), older kernels split it to 4K zero ptes and copy one page
   *     (do_huge_pmd_wp_page() -> __split_huge_pmd()). Either way the mmu notifier runs first.
   */
  touch(hvaPfn: number, write: boolean, hugeZeroWriteAllocates: boolean): number {
    if (write && this.uffdCount === 0 && this.writeNext(hvaPfn)) return HOST_RW;
    const pages = this.synced();
    const state = pages.get(hvaPfn);
    if (state === HOST_PRESENT) return HOST_RW;
    if (state === HOST_ZERO && !write) return HOST_RO;
    const level = this.hostLevel(hvaPfn, LEVEL_1G);
    const npages = LEVEL_PAGES[level]!;
    // hva page numbers are past 2^31: a modulo is a floating-point one, kept off the 4K path.
    const start = level === LEVEL_4K ? hvaPfn : hvaPfn - (hvaPfn % npages);
    if (state === HOST_MISSING) {
      if (write && this.hugeBackings === 0 && this.uffdCount === 0) {
        // Start a write cursor here instead of a map update (4K pages only: no huge backing; and no
        // userfaultfd registration the cursor could run into).
        this.startCursor(hvaPfn, Infinity);
        return HOST_RW;
      }
      const allocates = write || (this.kindAt(hvaPfn) & NO_ZERO_PAGE) !== 0;
      pages.set(start, start + npages, allocates ? HOST_PRESENT : HOST_ZERO);
      return allocates ? HOST_RW : HOST_RO;
    }
    // A write to a zero page: copy-on-write.
    this.cowStart = start;
    this.cowPages = npages;
    if (level > LEVEL_4K && !hugeZeroWriteAllocates) {
      this.smallThp.set(start, start + npages, 1);
      pages.set(hvaPfn, hvaPfn + 1, HOST_PRESENT);
    } else {
      pages.set(start, start + npages, HOST_PRESENT);
    }
    return HOST_COW;
  }

  /**
   * The VMM's own access to [hvaPfn, hvaPfn + npages) populates it as a guest fault would (the host's
   * page fault handler is the same). Calls `invalidate` for each range a copy-on-write replaced. Runs
   * already populated as needed and missing 4K ranges cost one step each; huge pages and copies of
   * zero pages one step per page.
   */
  hostTouch(hvaPfn: number, npages: number, write: boolean, hugeZeroWriteAllocates: boolean, invalidate: (start: number, npages: number) => void): void {
    const end = hvaPfn + npages;
    const p = this.synced();
    for (let pfn = hvaPfn; pfn < end; ) {
      const state = p.get(pfn);
      const inRun = state !== HOST_MISSING;
      if (inRun && (state === HOST_PRESENT || !write)) {
        pfn = p.sameUntil(pfn, end); // already what the access needs
        continue;
      }
      const level = this.hostLevel(pfn, LEVEL_1G);
      if (!inRun && level === LEVEL_4K && (write || (this.kindAt(pfn) & NO_ZERO_PAGE) === 0)) {
        // A missing 4K range: populated at once, up to the next populated page or backing boundary.
        const b = this.backingIndex(pfn);
        let to = p.sameUntil(pfn, end);
        if (b >= 0) to = Math.min(to, this.bEnd[b]!);
        else to = Math.min(to, this.nextBackingStart(pfn));
        p.set(pfn, to, write ? HOST_PRESENT : HOST_ZERO);
        pfn = to;
        continue;
      }
      if (this.touch(pfn, write, hugeZeroWriteAllocates) === HOST_COW) invalidate(this.cowStart, this.cowPages);
      // The host page it was may be 4K now (a huge zero page split by a write before 6.13).
      const pages = LEVEL_PAGES[this.hostLevel(pfn, LEVEL_1G)]!;
      pfn = pfn - (pfn % pages) + pages;
    }
  }

  /** The start of the first backing interval after hvaPfn (which no backing holds), or +Infinity. */
  private nextBackingStart(hvaPfn: number): number {
    for (let i = 0; i < this.bStart.length; i++) if (this.bStart[i]! > hvaPfn) return this.bStart[i]!;
    return Number.POSITIVE_INFINITY;
  }

  registerUffd(hvaPfn: number, npages: number, flags: number): void {
    this.synced(); // a cursor's pages may be in the new range
    this.uStart.push(hvaPfn);
    this.uPages.push(npages);
    this.uFlags.push(flags);
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

  /**
   * A VMM access over [start, start + npages): each missing page of a registration faults to its
   * handler, in address order, and is filled as uffdFill() does. Returns the faults. With disjoint
   * registrations the sweep steps over stretches of one state within one registration (or between
   * two), so its cost follows the faults and the stretches it crosses, not the pages it declares.
   */
  uffdFaults(start: number, npages: number): number {
    const end = start + npages;
    let faults = 0;
    let at = start;
    while (at < end) {
      if (this.uffdFault(at) === 1) {
        faults++;
        at++;
      } else if (this.uDisjoint) {
        at = this.synced().sameUntil(at, Math.min(end, this.nextUffdBoundary(at)));
      } else {
        at++;
      }
    }
    return faults;
  }

  /**
   * An access (guest or VMM) to hvaPfn: 1 when the page is a missing page of a registration, which
   * faults to its handler and is filled (uffdFill()), else 0.
   */
  uffdFault(hvaPfn: number): number {
    if (this.uffdNext(hvaPfn)) return 1;
    const reg = this.uffdMissing(hvaPfn);
    if (reg < 0) return 0;
    if ((this.uFlags[reg]! & UFFD_PAGE) !== 0 && this.uDisjoint) {
      // One page per fault, and no other registration in the way: the next faults in order extend a
      // cursor up to the registration's end instead of each updating the map.
      this.startCursor(hvaPfn, this.uStart[reg]! + this.uPages[reg]!);
    } else {
      this.uffdFill(reg, hvaPfn);
    }
    return 1;
  }

  /** The first registration start or end after hvaPfn (registrations disjoint), or +Infinity. */
  private nextUffdBoundary(hvaPfn: number): number {
    const sorted = this.uSorted;
    const lo = this.uffdStartingAtOrBelow(hvaPfn);
    if (lo > 0) {
      const i = sorted[lo - 1]!;
      const regEnd = this.uStart[i]! + this.uPages[i]!;
      if (regEnd > hvaPfn) return regEnd;
    }
    return lo < sorted.length ? this.uStart[sorted[lo]!]! : Number.POSITIVE_INFINITY;
  }

  /** How many registrations (in `uSorted` order) start at or below hvaPfn: a binary search. */
  private uffdStartingAtOrBelow(hvaPfn: number): number {
    const sorted = this.uSorted;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.uStart[sorted[mid]!]! <= hvaPfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The registration whose range holds hvaPfn with that page missing, or -1. */
  uffdMissing(hvaPfn: number): number {
    if (this.uDisjoint) {
      // At most one registration holds hvaPfn: the last one that held a page asked about (faults are
      // local), else the last one starting at or below it.
      let i = this.uLast;
      if (i < 0 || hvaPfn < this.uStart[i]! || hvaPfn - this.uStart[i]! >= this.uPages[i]!) {
        const lo = this.uffdStartingAtOrBelow(hvaPfn);
        if (lo === 0) return -1;
        i = this.uSorted[lo - 1]!;
        if (hvaPfn - this.uStart[i]! >= this.uPages[i]!) return -1;
        this.uLast = i;
      }
      return this.synced().get(hvaPfn) === HOST_MISSING ? i : -1;
    }
    if (this.synced().get(hvaPfn) !== HOST_MISSING) return -1;
    for (let i = 0; i < this.uffdCount; i++) {
      const off = hvaPfn - this.uStart[i]!;
      if (off >= 0 && off < this.uPages[i]!) return i;
    }
    return -1;
  }

  /**
   * The userfaultfd handler resolves a fault with UFFDIO_COPY: one page, or every missing page of the
   * range (present pages are left as they are: UFFDIO_COPY refuses them with EEXIST).
   */
  uffdFill(reg: number, hvaPfn: number): void {
    if ((this.uFlags[reg]! & UFFD_PAGE) !== 0) this.synced().setPage(hvaPfn, HOST_PRESENT);
    else this.fillMissing(this.uStart[reg]!, this.uStart[reg]! + this.uPages[reg]!, HOST_PRESENT);
  }

  /** Give the missing pages of [start, end) the state `value`; one step per stretch of one state. */
  private fillMissing(start: number, end: number, value: number): void {
    const p = this.synced();
    let at = start;
    while (at < end) {
      const to = p.sameUntil(at, end);
      if (p.get(at) === HOST_MISSING) p.set(at, to, value);
      at = to;
    }
  }

  /**
   * MADV_DONTNEED / munmap / hole punch: the pages are missing again (a registered page faults to its
   * handler again). A THP range discarded only in part keeps the rest mapped with 4K ptes
   * (zap_pmd_range() -> __split_huge_pmd()); one discarded whole may be a THP again.
   */
  unmap(hvaPfn: number, npages: number): void {
    const end = hvaPfn + npages;
    if (this.hugeBackings > 0) {
      const pmd = LEVEL_PAGES[LEVEL_2M]!;
      const head = hvaPfn - (hvaPfn % pmd);
      const tail = end - (end % pmd);
      if (head !== hvaPfn && this.partThp(head, hvaPfn, end)) this.smallThp.set(head, head + pmd, 1);
      if (tail !== end && tail >= hvaPfn && this.partThp(tail, hvaPfn, end)) this.smallThp.set(tail, tail + pmd, 1);
      const fullFrom = head === hvaPfn ? head : head + pmd;
      if (fullFrom < tail) this.smallThp.set(fullFrom, tail, 0);
    }
    this.synced().set(hvaPfn, end, HOST_MISSING);
  }

  /** The 2M range at `aligned` is a populated THP that [from, to) discards only part of. */
  private partThp(aligned: number, from: number, to: number): boolean {
    const pmd = LEVEL_PAGES[LEVEL_2M]!;
    if (from <= aligned && aligned + pmd <= to) return false;
    return this.hostLevel(aligned, LEVEL_2M) === LEVEL_2M && this.synced().any(aligned, aligned + pmd);
  }
}
