// The stage-2 operations, each a short visitor of Stage2.walk() (arm64 pgtable.c style): map one
// leaf, zap a range, split huge leaves, write-protect, count. Each is one module-level callback with a
// data object (the walker's `arg`); walkers and their data are allocated once per table and reused,
// so an operation allocates nothing.

import {
  LEVEL_PAGES,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_W,
  PTRS_PER_TABLE,
  isLeaf,
  leafPte,
  pteChild,
  pteLevel,
} from './pte.js';
import { Stage2, WALK_LEAF, WALK_TABLE_POST, WALK_TABLE_PRE, type WalkCtx, type Walker } from './table.js';

/** map() results. */
export const MAP_NEW = 0;
/** An existing leaf at the target level got new permissions (e.g. a write-protect fault fixed). */
export const MAP_UPDATED = 1;
/** The leaf already allowed the access: KVM's RET_PF_SPURIOUS. */
export const MAP_SPURIOUS = 2;

interface MapData {
  level: number;
  perms: number;
  result: number;
  /** Tears down a table a huge leaf replaces. */
  readonly zapper: Walker<ZapData>;
}

/** stage2_map_walker(): install the leaf at the target level, making room above it. */
function mapVisitor(ctx: WalkCtx<MapData>, visit: number): void {
  const s = ctx.s2;
  const d = ctx.arg;
  const idx = ctx.idx;
  const level = ctx.level;
  if (visit === WALK_TABLE_PRE) {
    if (level !== d.level) return;
    // A huge mapping replaces a table of smaller ones: tear the subtree down first.
    zapSubtree(s, d.zapper, idx, level, ctx.gfn);
    s.setLeaf(idx, level, d.perms);
    d.result = MAP_NEW;
    return;
  }
  const pte = s.pool[idx]!;
  if (level === d.level) {
    if (pte === 0) {
      s.setLeaf(idx, level, d.perms);
      d.result = MAP_NEW;
      return;
    }
    // Keep what the hardware recorded; add what the fault asked for.
    const updated = leafPte(level, d.perms | (pte & (PTE_DIRTY | PTE_ACCESSED)));
    if (updated === pte) {
      d.result = MAP_SPURIOUS;
    } else {
      s.pool[idx] = updated;
      d.result = MAP_UPDATED;
    }
    return;
  }
  // Above the target level: make room for a table (tdp_mmu_map(): link a new page table, or split
  // the huge page that is in the way).
  if (pte === 0) s.linkTable(idx);
  else if (isLeaf(pte)) s.splitLeaf(idx, pteLevel(pte));
}

interface ZapData {
  zapped: number;
}

/** stage2_unmap_walker(): clear leaves, free the tables the range wholly covered. */
function zapVisitor(ctx: WalkCtx<ZapData>, visit: number): void {
  const s = ctx.s2;
  const idx = ctx.idx;
  if (visit === WALK_LEAF) {
    // A huge leaf that only partly overlaps the range is zapped whole, as KVM does.
    if (isLeaf(s.pool[idx]!)) {
      s.clearLeaf(idx);
      ctx.arg.zapped++;
    }
    return;
  }
  // WALK_TABLE_POST: every entry below was inside the range, so the child is empty now: free it.
  if (ctx.gfn >= ctx.start && ctx.gfn + LEVEL_PAGES[ctx.level]! <= ctx.end) {
    const child = pteChild(s.pool[idx]!);
    s.pool[idx] = 0;
    s.freeTable(child);
  }
}

/** Zap everything under the table entry `idx` and free its tables. */
function zapSubtree(s: Stage2, zapper: Walker<ZapData>, idx: number, level: number, gfn: number): void {
  const child = pteChild(s.pool[idx]!);
  s.walkSubtree(child, level - 1, gfn, zapper);
  s.pool[idx] = 0;
  s.freeTable(child);
}

interface SplitData {
  target: number;
  split: number;
}

/** stage2_split_walker(): split every huge leaf above the target level. */
function splitVisitor(ctx: WalkCtx<SplitData>): void {
  const s = ctx.s2;
  if (ctx.level > ctx.arg.target && isLeaf(s.pool[ctx.idx]!)) {
    s.splitLeaf(ctx.idx, ctx.level);
    ctx.arg.split++;
  }
}

interface WrprotData {
  changed: number;
}

/** stage2_attr_walker() clearing the write permission. */
function wrprotVisitor(ctx: WalkCtx<WrprotData>): void {
  const s = ctx.s2;
  const pte = s.pool[ctx.idx]!;
  if (isLeaf(pte) && (pte & PTE_W) !== 0) {
    s.pool[ctx.idx] = pte & ~PTE_W;
    ctx.arg.changed++;
  }
}

interface CountData {
  readonly byLevel: Float64Array;
}

function countVisitor(ctx: WalkCtx<CountData>): void {
  const pte = ctx.s2.pool[ctx.idx]!;
  if (isLeaf(pte)) ctx.arg.byLevel[pteLevel(pte)]!++;
}

/** The operations the fault handler and the ioctls perform on a stage-2 table. */
export class Stage2Mmu {
  private readonly zapper: Walker<ZapData> = { cb: zapVisitor, arg: { zapped: 0 }, flags: WALK_LEAF | WALK_TABLE_POST };
  private readonly mapper: Walker<MapData> = {
    cb: mapVisitor,
    arg: { level: 0, perms: 0, result: MAP_NEW, zapper: this.zapper },
    flags: WALK_LEAF | WALK_TABLE_PRE,
  };
  private readonly splitter: Walker<SplitData> = { cb: splitVisitor, arg: { target: 0, split: 0 }, flags: WALK_LEAF };
  private readonly wrprotector: Walker<WrprotData> = { cb: wrprotVisitor, arg: { changed: 0 }, flags: WALK_LEAF };
  private readonly counter: Walker<CountData> = { cb: countVisitor, arg: { byLevel: new Float64Array(3) }, flags: WALK_LEAF };

  constructor(readonly s2: Stage2) {}

  /** Map gfn at `level` (gfn need not be aligned) with `perms` (PTE_W / PTE_X / ... bits). */
  map(gfn: number, level: number, perms: number): number {
    const d = this.mapper.arg;
    d.level = level;
    d.perms = perms;
    d.result = MAP_NEW;
    this.s2.walk(gfn, gfn + 1, this.mapper);
    return d.result;
  }

  /** Zap every leaf overlapping gfns [start, end); one TLB flush if anything went. */
  zap(start: number, end: number): number {
    const d = this.zapper.arg;
    d.zapped = 0;
    this.s2.walk(start, end, this.zapper);
    this.s2.flushIf(d.zapped > 0);
    return d.zapped;
  }

  /** Split the huge leaves in [start, end) down to `level` (kvm_mmu_slot_try_split_huge_pages). */
  split(start: number, end: number, level: number): number {
    const d = this.splitter.arg;
    d.target = level;
    d.split = 0;
    this.s2.walk(start, end, this.splitter);
    this.s2.flushIf(d.split > 0);
    return d.split;
  }

  /** Write-protect the leaves in [start, end); returns how many changed (the caller flushes once). */
  wrprot(start: number, end: number): number {
    const d = this.wrprotector.arg;
    d.changed = 0;
    this.s2.walk(start, end, this.wrprotector);
    return d.changed;
  }

  /** Count present leaves per level in [start, end) into `out` (length 3). */
  count(start: number, end: number, out: Float64Array): void {
    const d = this.counter.arg;
    d.byLevel.fill(0);
    this.s2.walk(start, end, this.counter);
    out.set(d.byLevel);
  }
}

export { PTRS_PER_TABLE };
