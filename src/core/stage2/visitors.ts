// The stage-2 operations, each a short visitor of Stage2.walk() (arm64 pgtable.c style): map one
// leaf, zap a range, split huge leaves, write-protect, count. Visitors are allocated once per table and
// keep their arguments and results in fields, so calling them allocates nothing.

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
import { Stage2, WALK_LEAF, WALK_TABLE_POST, WALK_TABLE_PRE, type Visitor } from './table.js';

/** map() results. */
export const MAP_NEW = 0;
/** An existing leaf at the target level got new permissions (e.g. a write-protect fault fixed). */
export const MAP_UPDATED = 1;
/** The leaf already allowed the access: KVM's RET_PF_SPURIOUS. */
export const MAP_SPURIOUS = 2;

class MapVisitor implements Visitor {
  readonly walkFlags = WALK_LEAF | WALK_TABLE_PRE;
  level = 0;
  perms = 0;
  result = MAP_NEW;
  constructor(private readonly zapper: ZapVisitor) {}

  leaf(s: Stage2, idx: number, level: number): void {
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

  tablePre(s: Stage2, idx: number, level: number, gfn: number): void {
    if (level !== this.level) return;
    // A huge mapping replaces a table of smaller ones: tear the subtree down first.
    this.zapper.zapSubtree(s, idx, level, gfn);
    s.setLeaf(idx, level, this.perms);
    this.result = MAP_NEW;
  }

  tablePost(): void {}
}

class ZapVisitor implements Visitor {
  readonly walkFlags = WALK_LEAF | WALK_TABLE_POST;
  zapped = 0;

  leaf(s: Stage2, idx: number): void {
    // A huge leaf that only partly overlaps the range is zapped whole, as KVM does.
    if (isLeaf(s.pool[idx]!)) {
      s.clearLeaf(idx);
      this.zapped++;
    }
  }

  tablePre(): void {}

  tablePost(s: Stage2, idx: number, level: number, gfn: number): void {
    // Every entry below was inside the range, so the child is empty now: free it.
    if (gfn >= s.walkStart && gfn + LEVEL_PAGES[level]! <= s.walkEnd) {
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

class SplitVisitor implements Visitor {
  readonly walkFlags = WALK_LEAF;
  target = 0;
  split = 0;

  leaf(s: Stage2, idx: number, level: number): void {
    const pte = s.pool[idx]!;
    if (level > this.target && isLeaf(pte)) {
      s.splitLeaf(idx, level);
      this.split++;
    }
  }

  tablePre(): void {}
  tablePost(): void {}
}

class WrprotVisitor implements Visitor {
  readonly walkFlags = WALK_LEAF;
  changed = 0;

  leaf(s: Stage2, idx: number): void {
    const pte = s.pool[idx]!;
    if (isLeaf(pte) && (pte & PTE_W) !== 0) {
      s.pool[idx] = pte & ~PTE_W;
      this.changed++;
    }
  }

  tablePre(): void {}
  tablePost(): void {}
}

class CountVisitor implements Visitor {
  readonly walkFlags = WALK_LEAF;
  readonly byLevel = new Float64Array(3);

  leaf(s: Stage2, idx: number): void {
    const pte = s.pool[idx]!;
    if (isLeaf(pte)) this.byLevel[pteLevel(pte)]!++;
  }

  tablePre(): void {}
  tablePost(): void {}
}

/** The operations the fault handler and the ioctls perform on a stage-2 table. */
export class Stage2Mmu {
  private readonly zapper = new ZapVisitor();
  private readonly mapper = new MapVisitor(this.zapper);
  private readonly splitter = new SplitVisitor();
  private readonly wrprotector = new WrprotVisitor();
  private readonly counter = new CountVisitor();

  constructor(readonly s2: Stage2) {}

  /** Map gfn at `level` (gfn need not be aligned) with `perms` (PTE_W / PTE_X / ... bits). */
  map(gfn: number, level: number, perms: number): number {
    const v = this.mapper;
    v.level = level;
    v.perms = perms;
    v.result = MAP_NEW;
    this.s2.walk(gfn, gfn + 1, v);
    return v.result;
  }

  /** Zap every leaf overlapping gfns [start, end); one TLB flush if anything went. */
  zap(start: number, end: number): number {
    const v = this.zapper;
    v.zapped = 0;
    this.s2.walk(start, end, v);
    this.s2.flushIf(v.zapped > 0);
    return v.zapped;
  }

  /** Split the huge leaves in [start, end) down to `level` (kvm_mmu_slot_try_split_huge_pages). */
  split(start: number, end: number, level: number): number {
    const v = this.splitter;
    v.target = level;
    v.split = 0;
    this.s2.walk(start, end, v);
    this.s2.flushIf(v.split > 0);
    return v.split;
  }

  /** Write-protect the leaves in [start, end); returns how many changed (the caller flushes once). */
  wrprot(start: number, end: number): number {
    const v = this.wrprotector;
    v.changed = 0;
    this.s2.walk(start, end, v);
    return v.changed;
  }

  /** Count present leaves per level in [start, end) into `out` (length 3). */
  count(start: number, end: number, out: Float64Array): void {
    const v = this.counter;
    v.byLevel.fill(0);
    this.s2.walk(start, end, v);
    out.set(v.byLevel);
  }
}

export { PTRS_PER_TABLE };
