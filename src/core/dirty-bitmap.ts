// One memslot's dirty bitmap, sparse: what the kernel keeps as one dense bit per page
// (kvm_alloc_dirty_bitmap(), virt/kvm/kvm_main.c) is kept here as 32K-page blocks allocated on first
// use, so that a get or clear costs what was dirtied or cleared, not the slot's size (a maximum-size
// slot is 2^31 pages). Blocks are found through a sorted index, so a clear visits only blocks it can
// change. docs/kvm-rules.md, "Dirty bitmaps".

import { ensureModelMemory } from './model-memory.js';

/** Pages per block: 1024 32-bit words, 4 KiB of bits. */
export const DIRTY_BLOCK_PAGES = 1 << 15;
const BLOCK_SHIFT = 15;
const BLOCK_WORDS = DIRTY_BLOCK_PAGES / 32;
/** A block's last word holds how many of its bits are set (no second map on the write path). */
const COUNT = BLOCK_WORDS;

/** Receives maximal runs [start, end) of pages whose bits a clear took, in ascending order. */
export type ClearedRuns = (start: number, end: number) => void;

export class DirtyBitmap {
  /**
   * Block index -> its bits, or null for a block known to be all clear while absent blocks are all
   * set (initially-set bitmaps). An absent block holds `absentSet` in every page.
   */
  private readonly blocks = new Map<number, Uint32Array | null>();
  /** The block set() used last: writes come in runs within a block. */
  private lastIndex = -1;
  private lastBlock: Uint32Array | null = null;
  /** The indexes of `blocks`, ascending. */
  private readonly keys: number[] = [];
  private absentSet = false;
  /** Set bits in the whole bitmap. */
  private total = 0;
  /** Blocks materialized so far (a work figure for tests and reports; never decreases). */
  allocations = 0;

  constructor(readonly npages: number) {}

  /** Pages whose bit is set. */
  get count(): number {
    return this.total;
  }

  /** bitmap_set(bitmap, 0, npages): KVM_DIRTY_LOG_INITIALLY_SET. No block is allocated. */
  setAll(): void {
    this.blocks.clear();
    this.lastIndex = -1;
    this.keys.length = 0;
    this.absentSet = true;
    this.total = this.npages;
  }

  /** Set page's bit; true when it was clear. */
  set(page: number): boolean {
    const b = page >>> BLOCK_SHIFT;
    let block = b === this.lastIndex ? this.lastBlock : this.blocks.get(b);
    if (block === undefined && this.absentSet) return false;
    if (block === undefined || block === null) block = this.materialize(b);
    this.lastIndex = b;
    this.lastBlock = block;
    const i = (page & (DIRTY_BLOCK_PAGES - 1)) >>> 5;
    const bit = 1 << (page & 31);
    if ((block[i]! & bit) !== 0) return false;
    block[i] = block[i]! | bit;
    block[COUNT]!++;
    this.total++;
    return true;
  }

  /** Whether page's bit is set. */
  has(page: number): boolean {
    const block = this.blocks.get(page >>> BLOCK_SHIFT);
    if (block === undefined) return this.absentSet;
    if (block === null) return false;
    return (block[(page & (DIRTY_BLOCK_PAGES - 1)) >>> 5]! & (1 << (page & 31))) !== 0;
  }

  /**
   * Clear the set bits of pages [from, to); `runs` gets each maximal run of bits cleared, ascending.
   * Returns how many bits were cleared.
   */
  clear(from: number, to: number, runs: ClearedRuns): number {
    to = Math.min(to, this.npages);
    if (from >= to || this.total === 0) return 0;
    const sink = new RunJoiner(runs);
    const before = this.total;
    if (this.absentSet) {
      // Every block of the range may hold set bits (absent ones are full): per block, not per page.
      for (let b = from >>> BLOCK_SHIFT; b <= (to - 1) >>> BLOCK_SHIFT; b++) this.clearInBlock(b, from, to, sink);
    } else {
      // Only materialized blocks hold set bits: find the first one in range in the sorted index.
      const first = lowerBound(this.keys, from >>> BLOCK_SHIFT);
      const last = (to - 1) >>> BLOCK_SHIFT;
      const inRange: number[] = [];
      for (let k = first; k < this.keys.length && this.keys[k]! <= last; k++) inRange.push(this.keys[k]!);
      for (const b of inRange) this.clearInBlock(b, from, to, sink);
    }
    sink.flush();
    return before - this.total;
  }

  private clearInBlock(b: number, from: number, to: number, sink: RunJoiner): void {
    const base = b * DIRTY_BLOCK_PAGES;
    const lo = Math.max(from, base);
    const hi = Math.min(to, base + DIRTY_BLOCK_PAGES, this.npages);
    let block = this.blocks.get(b);
    if (block === null) return;
    if (block === undefined) {
      // An absent block of an initially-set bitmap: every page is set. A whole block goes to null.
      const blockEnd = Math.min(base + DIRTY_BLOCK_PAGES, this.npages);
      if (lo === base && hi === blockEnd) {
        sink.add(lo, hi);
        this.setEntry(b, null);
        this.total -= hi - lo;
        return;
      }
      block = this.materialize(b);
    }
    let cleared = 0;
    for (let i = (lo - base) >>> 5; i <= (hi - 1 - base) >>> 5; i++) {
      const wordBase = base + i * 32;
      let w = block[i]! & rangeMask(lo - wordBase, hi - wordBase);
      if (w === 0) continue;
      block[i] = block[i]! & ~w;
      // Each run of ones in the word, lowest first.
      while (w !== 0) {
        const start = ctz(w);
        const ones = ~(w >>> start);
        const len = ones === 0 ? 32 - start : ctz(ones);
        sink.add(wordBase + start, wordBase + start + len);
        cleared += len;
        w &= ~(len === 32 ? -1 : ((1 << len) - 1) << start);
      }
    }
    this.total -= cleared;
    block[COUNT] = block[COUNT]! - cleared;
    if (block[COUNT] === 0) this.setEntry(b, this.absentSet ? null : undefined);
  }

  /** Bytes of the blocks held now (src/core/model-memory.ts). */
  bytes(): number {
    let n = 0;
    for (const block of this.blocks.values()) if (block !== null) n += block.byteLength;
    return n + this.keys.length * 8;
  }

  /** Allocate block b's bits from what it holds now (all set when absent from an initially-set bitmap). */
  private materialize(b: number): Uint32Array {
    ensureModelMemory((BLOCK_WORDS + 1) * 4, 'dirty bitmaps');
    const block = new Uint32Array(BLOCK_WORDS + 1);
    let n = 0;
    if (this.blocks.get(b) === undefined && this.absentSet) {
      n = Math.min(DIRTY_BLOCK_PAGES, this.npages - b * DIRTY_BLOCK_PAGES);
      block.fill(0xffffffff, 0, n >>> 5);
      if ((n & 31) !== 0) block[n >>> 5] = (1 << (n & 31)) - 1;
    }
    block[COUNT] = n;
    this.allocations++;
    this.setEntry(b, block);
    return block;
  }

  /** Set, replace (null: known clear) or drop (undefined) block b's entry, keeping `keys` sorted. */
  private setEntry(b: number, block: Uint32Array | null | undefined): void {
    const had = this.blocks.has(b);
    if (b === this.lastIndex) this.lastIndex = -1;
    if (block === undefined) {
      if (!had) return;
      this.blocks.delete(b);
      this.keys.splice(lowerBound(this.keys, b), 1);
      return;
    }
    this.blocks.set(b, block);
    if (!had) this.keys.splice(lowerBound(this.keys, b), 0, b);
  }
}

/** Joins runs that touch (across words and blocks) before handing them on. */
class RunJoiner {
  private start = -1;
  private end = -1;
  constructor(private readonly out: ClearedRuns) {}

  add(start: number, end: number): void {
    if (start === this.end) {
      this.end = end;
      return;
    }
    this.flush();
    this.start = start;
    this.end = end;
  }

  flush(): void {
    if (this.start >= 0) this.out(this.start, this.end);
    this.start = -1;
    this.end = -1;
  }
}

/** Bits [lo, hi) of a 32-bit word, clipped to the word. */
function rangeMask(lo: number, hi: number): number {
  const a = Math.max(lo, 0);
  const b = Math.min(hi, 32);
  if (a >= b) return 0;
  const width = b - a;
  return (width === 32 ? -1 : ((1 << width) - 1)) << a;
}

/** Count trailing zeros of a non-zero 32-bit word. */
function ctz(w: number): number {
  return 31 - Math.clz32(w & -w);
}

/** The first index of sorted `a` whose value is >= v. */
function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
