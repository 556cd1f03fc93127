// A 2-bit state (0..3) for every page of a huge page-number space, for state that random first touches
// make dense: the host's page state (src/core/hostmm.ts). A RangeMap keeps one run per stretch of equal
// pages in sorted arrays, so each random first touch inserts in the middle (a memmove over all runs
// after it): at millions of touched pages that copy is the whole cost of a replay. Here a 2M block
// (512 pages) that holds more than one value gets its own 128-byte bitmap, found through a hash map,
// so a page's update costs O(1) whatever the number of runs; a block of one value is a marker in that
// hash map (no bitmap); and whole-block ranges larger than BIG_SET_BLOCKS go to a RangeMap of
// block-aligned runs, so a trace claiming terabytes in one row costs one run, not a block per 2M.
//
// Value of a page: its block's bitmap or marker if the hash map holds the block, else the coarse runs.

import { ensureModelMemory } from './model-memory.js';
import { RangeMap } from './range-map.js';

const BLOCK_PAGES = 512;
/** 32-bit words of a block's bitmap: 16 pages of 2 bits each per word. */
const WORDS = 32;
/** A whole-block range up to this many blocks is stored as per-block markers; a larger one as a coarse run. */
const BIG_SET_BLOCKS = 64;
/** An entry of `blocks` for a block it does not hold. Markers are -1 - value (-1..-4); bitmaps are slots >= 0. */
const NO_ENTRY = -8;
/** Rough bytes of one hash-map entry, counted in bytes() for the model memory bound. */
const ENTRY_BYTES = 24;
const INITIAL_SLOTS = 64;

/** A word holding 16 pages of value v. */
function repeat(v: number): number {
  return (v * 0x55555555) | 0;
}

export class PageStates {
  /** Block-aligned runs set by large whole-block ranges; a block the hash map holds overrides them. */
  private readonly coarse = new RangeMap();
  /** Block number -> bitmap slot (>= 0) or a marker -1 - value for a block of one value. */
  private readonly blocks = new Map<number, number>();
  private pool = new Int32Array(INITIAL_SLOTS * WORDS);
  private freeSlots: number[] = [];
  private nextSlot = 0;
  /**
   * The last block looked up and its entry: accesses are local. A partial set updates it for its own
   * block (a fault's fill then its lookup of the same page cost one hash lookup, not three); a whole-block
   * set or a clear makes it NaN.
   */
  private lastBlock = NaN;
  private lastEntry = NO_ENTRY;

  /** The state of page `page` (0 when never set). */
  get(page: number): number {
    const b = Math.floor(page / BLOCK_PAGES);
    const e = this.entry(b);
    if (e >= 0) return this.bit(e, page - b * BLOCK_PAGES);
    if (e !== NO_ENTRY) return -1 - e;
    return this.coarse.count === 0 ? 0 : this.coarse.get(page);
  }

  /** Whether any page of [start, end) has a state other than 0. */
  any(start: number, end: number): boolean {
    if (start >= end) return false;
    return this.get(start) !== 0 || this.sameUntil(start, end) < end;
  }

  /**
   * The first page after `page` and not after `limit` whose state differs from page's, or `limit`:
   * the end of the stretch of page's state, as far as the caller looks.
   */
  sameUntil(page: number, limit: number): number {
    const v = this.get(page);
    const rep = repeat(v);
    let at = page;
    while (at < limit) {
      const b = Math.floor(at / BLOCK_PAGES);
      const base = b * BLOCK_PAGES;
      const e = this.entry(b);
      if (e >= 0) {
        const stop = Math.min(limit - base, BLOCK_PAGES);
        let off = at - base;
        while (off < stop) {
          // Whole words of v are skipped at once.
          if ((off & 15) === 0 && this.pool[e * WORDS + (off >>> 4)] === rep) {
            off += 16;
            continue;
          }
          if (this.bit(e, off) !== v) return base + off;
          off++;
        }
      } else if (e !== NO_ENTRY) {
        if (-1 - e !== v) return at;
      } else {
        // A block of the coarse runs: the stretch goes on to the end of the run holding `at` (or to
        // the next run's start), unless a block the hash map holds comes first.
        const c = this.coarse;
        const i = c.firstEndAfter(at);
        const inRun = i < c.count && c.starts[i]! <= at;
        if ((inRun ? c.values[i]! : 0) !== v) return at;
        const boundary = Math.min(limit, inRun ? c.ends[i]! : i < c.count ? c.starts[i]! : limit);
        const span = Math.ceil(boundary / BLOCK_PAGES) - b;
        if (span > 4 * this.blocks.size) {
          // Far fewer held blocks than blocks to step over: find the next one held by scanning them.
          let next = b + span;
          for (const k of this.blocks.keys()) if (k > b && k < next) next = k;
          at = Math.min(boundary, next * BLOCK_PAGES);
          continue;
        }
      }
      at = base + BLOCK_PAGES;
    }
    return limit;
  }

  /**
   * Give page `page` the state `value`: set(page, page + 1, value) small enough for V8 to inline, so
   * that a page number past 2^31 is not boxed for the call (the userfaultfd fill of every fault).
   */
  setPage(page: number, value: number): void {
    const b = Math.floor(page / BLOCK_PAGES);
    const off = page - b * BLOCK_PAGES;
    this.setPartial(b, off, off + 1, value);
  }

  /** Give every page of [start, end) the state `value` (0..3). */
  set(start: number, end: number, value: number): void {
    if (start >= end) return;
    const first = Math.floor(start / BLOCK_PAGES);
    const last = Math.floor((end - 1) / BLOCK_PAGES);
    if (first === last) {
      if (end - start === BLOCK_PAGES) this.setWhole(first, first + 1, value);
      else this.setPartial(first, start - first * BLOCK_PAGES, end - first * BLOCK_PAGES, value);
    } else {
      const firstWhole = start === first * BLOCK_PAGES ? first : first + 1;
      const lastWhole = end === (last + 1) * BLOCK_PAGES ? last + 1 : last;
      if (firstWhole !== first) this.setPartial(first, start - first * BLOCK_PAGES, BLOCK_PAGES, value);
      if (firstWhole < lastWhole) this.setWhole(firstWhole, lastWhole, value);
      if (lastWhole === last) this.setPartial(last, 0, end - last * BLOCK_PAGES, value);
    }
  }

  /** Forget every page's state. */
  clear(): void {
    this.coarse.clear();
    this.blocks.clear();
    this.freeSlots = [];
    this.nextSlot = 0;
    this.lastBlock = NaN;
  }

  /** Bytes held (src/core/model-memory.ts): bitmaps, hash-map entries, coarse runs. */
  bytes(): number {
    return this.pool.byteLength + this.blocks.size * ENTRY_BYTES + this.coarse.bytes();
  }

  private entry(b: number): number {
    if (b === this.lastBlock) return this.lastEntry;
    const e = this.blocks.get(b);
    this.lastBlock = b;
    this.lastEntry = e === undefined ? NO_ENTRY : e;
    return this.lastEntry;
  }

  private bit(slot: number, off: number): number {
    return (this.pool[slot * WORDS + (off >>> 4)]! >>> ((off & 15) << 1)) & 3;
  }

  private setBit(slot: number, off: number, value: number): void {
    const w = slot * WORDS + (off >>> 4);
    const shift = (off & 15) << 1;
    this.pool[w] = (this.pool[w]! & ~(3 << shift)) | (value << shift);
  }

  /** The value of a block the hash map does not hold. */
  private coarseValue(b: number): number {
    return this.coarse.count === 0 ? 0 : this.coarse.get(b * BLOCK_PAGES);
  }

  /** Pages [from, to) of block b (0 <= from < to <= 512) get `value`. */
  private setPartial(b: number, from: number, to: number, value: number): void {
    let e = this.entry(b);
    if (e < 0) {
      const was = e === NO_ENTRY ? this.coarseValue(b) : -1 - e;
      if (was === value) return;
      e = this.allocSlot();
      this.pool.fill(repeat(was), e * WORDS, (e + 1) * WORDS);
      this.blocks.set(b, e);
      this.lastEntry = e; // entry(b) made b the cached block
    }
    for (let off = from; off < to; off++) this.setBit(e, off, value);
    // A bitmap whose pages all hold one value is a marker again (or nothing, if the coarse runs say so).
    const base = e * WORDS;
    const w0 = this.pool[base]!;
    const v0 = w0 & 3;
    if (w0 !== repeat(v0)) return;
    // Pages are mostly filled in order: the block's last word and the word just written differ from
    // the first until the block is full, so test those before scanning the rest.
    if (this.pool[base + WORDS - 1] !== w0 || this.pool[base + ((to - 1) >>> 4)] !== w0) return;
    for (let w = 1; w < WORDS - 1; w++) if (this.pool[base + w] !== w0) return;
    this.freeSlots.push(e);
    if (v0 === this.coarseValue(b)) {
      this.blocks.delete(b);
      this.lastEntry = NO_ENTRY;
    } else {
      this.blocks.set(b, -1 - v0);
      this.lastEntry = -1 - v0;
    }
  }

  /** Blocks [from, to) get `value` whole. */
  private setWhole(from: number, to: number, value: number): void {
    this.lastBlock = NaN;
    if (to - from <= BIG_SET_BLOCKS) {
      for (let b = from; b < to; b++) {
        const e = this.blocks.get(b);
        if (e !== undefined && e >= 0) this.freeSlots.push(e);
        if (value === this.coarseValue(b)) this.blocks.delete(b);
        else this.blocks.set(b, -1 - value);
      }
      return;
    }
    this.coarse.set(from * BLOCK_PAGES, to * BLOCK_PAGES, value);
    // Drop the blocks the range covers: probing each block or scanning the map, whichever is fewer.
    if (to - from <= this.blocks.size) {
      for (let b = from; b < to; b++) this.dropBlock(b, this.blocks.get(b));
    } else {
      for (const [b, e] of this.blocks) if (b >= from && b < to) this.dropBlock(b, e);
    }
  }

  private dropBlock(b: number, e: number | undefined): void {
    if (e === undefined) return;
    if (e >= 0) this.freeSlots.push(e);
    this.blocks.delete(b);
  }

  private allocSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    const slot = this.nextSlot++;
    if ((slot + 1) * WORDS > this.pool.length) {
      const cap = this.pool.length * 2;
      ensureModelMemory(cap * 4, 'host page state');
      const grown = new Int32Array(cap);
      grown.set(this.pool);
      this.pool = grown;
    }
    return slot;
  }
}
