// The stage-2 operations, each a short visitor of Stage2.walk() (arm64 pgtable.c style): map one
// leaf, zap a range, split huge leaves, write-protect, count. Each walker has one callback, told by
// WALK_* which visit it is in, and keeps its arguments and results in fields; walkers are allocated
// once per table and reused, so an operation allocates nothing.

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
import { Stage2, WALK_LEAF, WALK_TABLE_POST, WALK_TABLE_PRE, type Walker } from './table.js';

/** map() results. */
export const MAP_NEW = 0;
/** An existing leaf at the target level got new permissions (e.g. a write-protect fault fixed). */
export const MAP_UPDATED = 1;
/** The leaf already allowed the access: KVM's RET_PF_SPURIOUS. */
export const MAP_SPURIOUS = 2;

/** stage2_map_walker(): install the leaf at the target level, making room above it. */
class MapWalker implements Walker {
  readonly flags = WALK_LEAF | WALK_TABLE_PRE;
  level = 0;
  perms = 0;
  result = MAP_NEW;
  /** Tears down a table a huge leaf replaces. */
  constructor(private readonly zapper: ZapWalker) {}

  visit(s: Stage2, visit: number, idx: number, level: number, gfn: number): void {
        if (visit === WALK_TABLE_PRE) {
      if (level !== this.level) return;
      // A huge mapping replaces a table of smaller ones: tear the subtree down first.
      this.zapper.zapSubtree(s, idx, level, gfn);
      s.setLeaf(idx, level, this.perms);
      this.result = MAP_NEW;
      return;
    }
    const pte = s.pool[idx]!;
    if (level === this.level) {
      if (pte === 0) {
        s.setLeaf(idx, level, this.perms);
        this.result = MAP_NEW;
        return;
      }
      // Keep what the hardware recorded; add what the fault asked for.
      const updated = leafPte(level, this.perms | (pte & (PTE_DIRTY | PTE_ACCESSED)));
      if (updated === pte) {
        this.result = MAP_SPURIOUS;
      } else {
        s.pool[idx] = updated;
        this.result = MAP_UPDATED;
      }
      return;
    }
    // Above the target level: make room for a table (tdp_mmu_map(): link a new page table, or split
    // the huge page that is in the way).
    if (pte === 0) s.linkTable(idx);
    else if (isLeaf(pte)) s.splitLeaf(idx, pteLevel(pte));
  }
}

/** stage2_unmap_walker(): clear leaves, free the tables the range wholly covered. */
class ZapWalker implements Walker {
  readonly flags = WALK_LEAF | WALK_TABLE_POST;
  zapped = 0;

  visit(s: Stage2, visit: number, idx: number, level: number, gfn: number, start: number, end: number): void {
        if (visit === WALK_LEAF) {
      // A huge leaf that only partly overlaps the range is zapped whole, as KVM does.
      if (isLeaf(s.pool[idx]!)) {
        s.clearLeaf(idx);
        this.zapped++;
      }
      return;
    }
    // WALK_TABLE_POST: every entry below was inside the range, so the child is empty now: free it.
    if (gfn >= start && gfn + LEVEL_PAGES[level]! <= end) {
      const child = pteChild(s.pool[idx]!);
      s.pool[idx] = 0;
      s.freeTable(child);
    }
  }

  /** Zap everything under the table entry `idx` and free its tables. */
  zapSubtree(s: Stage2, idx: number, level: number, gfn: number): void {
    const child = pteChild(s.pool[idx]!);
    s.walkSubtree(child, level - 1, gfn, this);
    s.pool[idx] = 0;
    s.freeTable(child);
  }
}

/** stage2_split_walker(): split every huge leaf above the target level. */
class SplitWalker implements Walker {
  readonly flags = WALK_LEAF;
  target = 0;
  split = 0;

  visit(s: Stage2, _visit: number, idx: number, level: number): void {
        if (level > this.target && isLeaf(s.pool[idx]!)) {
      s.splitLeaf(idx, level);
      this.split++;
    }
  }
}

/** stage2_attr_walker() clearing the write permission. */
class WrprotWalker implements Walker {
  readonly flags = WALK_LEAF;
  changed = 0;

  visit(s: Stage2, _visit: number, idx: number, level: number): void {
        const pte = s.pool[idx]!;
    if (isLeaf(pte) && (pte & PTE_W) !== 0) {
      s.pool[idx] = pte & ~PTE_W;
      this.changed++;
    }
  }
}

/** Present leaves per level. */
class CountWalker implements Walker {
  readonly flags = WALK_LEAF;
  readonly byLevel = new Float64Array(3);

  visit(s: Stage2, _visit: number, idx: number, level: number): void {
    const pte = s.pool[idx]!;
    if (isLeaf(pte)) this.byLevel[pteLevel(pte)]!++;
  }
}

/** The operations the fault handler and the ioctls perform on a stage-2 table. */
export class Stage2Mmu {
  private readonly zapper = new ZapWalker();
  private readonly mapper = new MapWalker(this.zapper);
  private readonly splitter = new SplitWalker();
  private readonly wrprotector = new WrprotWalker();
  private readonly counter = new CountWalker();

  constructor(readonly s2: Stage2) {}

  /** Map gfn at `level` (gfn need not be aligned) with `perms` (PTE_W / PTE_X / ... bits). */
  map(gfn: number, level: number, perms: number): number {
    const w = this.mapper;
    w.level = level;
    w.perms = perms;
    w.result = MAP_NEW;
    this.s2.walk(gfn, gfn + 1, w);
    return w.result;
  }

  /** Zap every leaf overlapping gfns [start, end); one TLB flush if anything went. */
  zap(start: number, end: number): number {
    const w = this.zapper;
    w.zapped = 0;
    this.s2.walk(start, end, w);
    this.s2.flushIf(w.zapped > 0);
    return w.zapped;
  }

  /** Split the huge leaves in [start, end) down to `level` (kvm_mmu_slot_try_split_huge_pages). */
  split(start: number, end: number, level: number): number {
    const w = this.splitter;
    w.target = level;
    w.split = 0;
    this.s2.walk(start, end, w);
    this.s2.flushIf(w.split > 0);
    return w.split;
  }

  /** Write-protect the leaves in [start, end); returns how many changed (the caller flushes once). */
  wrprot(start: number, end: number): number {
    const w = this.wrprotector;
    w.changed = 0;
    this.s2.walk(start, end, w);
    return w.changed;
  }

  /** Count present leaves per level in [start, end) into `out` (length 3). */
  count(start: number, end: number, out: Float64Array): void {
    const w = this.counter;
    w.byLevel.fill(0);
    this.s2.walk(start, end, w);
    out.set(w.byLevel);
  }
}

export { PTRS_PER_TABLE };
