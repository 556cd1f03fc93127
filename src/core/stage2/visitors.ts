// The stage-2 operations, each a short visitor of Stage2.walk() (arm64 pgtable.c style): map one
// leaf, zap a range, split huge leaves, write-protect, count. Each walker has one callback, told by
// WALK_* which visit it is in, and keeps its arguments and results in fields; walkers are allocated
// once per table and reused, so an operation allocates nothing.

import { M } from '../metrics.js';
import {
  LEVEL_1G,
  LEVEL_2M,
  LEVEL_4K,
  LEVEL_PAGES,
  PTE_TABLE,
  PTE_ACCESSED,
  PTE_DIRTY,
  PTE_PRIVATE,
  PTE_W,
  PTE_X,
  isTable,
  PTRS_PER_TABLE,
  isLeaf,
  leafPte,
  pteChild,
  pteLevel,
} from './pte.js';
import { Stage2, WALK_EMPTY, WALK_LEAF, WALK_TABLE_POST, WALK_TABLE_PRE, type Walker } from './table.js';

/** gfns under one level-2 table (2^27): the direct map descent indexes the levels below with shifts. */
const LOW_PAGES = LEVEL_PAGES[3];
const LOW_INV = 1 / LOW_PAGES;

/** map() results. */
export const MAP_NEW = 0;
/** An existing leaf at the target level got new permissions (e.g. a write-protect fault fixed). */
export const MAP_UPDATED = 1;
/** The leaf already allowed the access: KVM's RET_PF_SPURIOUS. */
export const MAP_SPURIOUS = 2;

/** stage2_map_walker(): install the leaf at the target level, making room above it. */
class MapWalker implements Walker {
  readonly flags = WALK_LEAF | WALK_EMPTY | WALK_TABLE_PRE;
  level = 0;
  perms = 0;
  result = MAP_NEW;
  /** A huge leaf replaced a table of smaller ones: the caller flushes. */
  replacedTable = false;
  constructor(
    /** Tears down a table a huge leaf replaces. */
    private readonly zapper: ZapWalker,
    /** arm64: break a block in the way into an empty table rather than split it (x86). */
    private readonly breakBlocks: boolean,
  ) {}

  visit(s: Stage2, visit: number, idx: number, level: number, gfn: number): void {
    if (visit === WALK_TABLE_PRE) {
      if (level !== this.level) return;
      // A huge mapping replaces a table of smaller ones: tear the subtree down first.
      this.zapper.zapSubtree(s, idx, level, gfn);
      s.setLeaf(idx, level, this.perms);
      this.replacedTable = true; // map() flushes: kept out of this callback, which the walk inlines
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
    else if (isLeaf(pte)) {
      if (this.breakBlocks) s.breakLeaf(idx, pteLevel(pte));
      else s.splitLeaf(idx, pteLevel(pte));
    }
  }
}

/** stage2_unmap_walker(): clear leaves, free the tables the range wholly covered. */
class ZapWalker implements Walker {
  readonly flags = WALK_LEAF | WALK_TABLE_PRE | WALK_TABLE_POST;
  zapped = 0;
  /** False for the subtree under a huge leaf rebuilt in place: its leaves are replaced, not zapped. */
  constructor(private readonly counted = true) {}

  visit(s: Stage2, visit: number, idx: number, level: number, gfn: number, start: number, end: number): void {
    if (visit === WALK_TABLE_PRE) {
      // A table of 4K leaves wholly inside the range goes in one pass, not one visit per leaf.
      if (level === LEVEL_2M && gfn >= start && gfn + PTRS_PER_TABLE <= end) this.zapLeafTable(s, idx);
      return;
    }
    if (visit === WALK_LEAF) {
      // A huge leaf that only partly overlaps the range is zapped whole, as KVM does.
      if (isLeaf(s.pool[idx]!)) {
        if (this.counted) s.clearLeaf(idx);
        else s.dropLeaf(idx);
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

  /**
   * The table of 4K leaves under the 2M entry `idx`: its leaves go, counted as the per-leaf visits
   * count them (Stage2.tableLeaves: no scan), then it is freed and the entry emptied, as the
   * post-order visit would. Its entries are left as they are: nothing reaches a freed table, and
   * allocTable() clears one when it is reused. The walk rereads the entry and does not descend.
   */
  private zapLeafTable(s: Stage2, idx: number): void {
    const pool = s.pool;
    const child = pteChild(pool[idx]!);
    const n = s.tableLeaves[child]!;
    s.leaves[LEVEL_4K]! -= n;
    if (this.counted) s.counters[M.zaps]! += n;
    this.zapped += n;
    pool[idx] = 0;
    s.freeTable(child);
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

/** stage2_attr_walker() clearing the write permission of leaves at `minLevel` and above. */
class WrprotWalker implements Walker {
  readonly flags = WALK_LEAF;
  changed = 0;
  minLevel = 0;

  visit(s: Stage2, _visit: number, idx: number, level: number): void {
    const pte = s.pool[idx]!;
    if (level >= this.minLevel && isLeaf(pte) && (pte & PTE_W) !== 0) {
      s.pool[idx] = pte & ~PTE_W;
      this.changed++;
    }
  }
}

/**
 * x86 recover_huge_pages_range() (6.13+): a 2M or 1G entry that holds a table, starts inside the range
 * and may now be mapped huge (`allowed`) becomes one huge leaf made from its first leaf
 * (make_huge_spte(): same permissions and A/D bits; non-executable under the NX huge page
 * mitigation). The small leaves are replaced, not zapped: the guest does not refault.
 */
class RecoverWalker implements Walker {
  readonly flags = WALK_TABLE_PRE;
  recovered = 0;
  clearExec = false;
  allowed: (gfn: number, level: number) => boolean = () => false;
  constructor(private readonly dropper: ZapWalker) {}

  visit(s: Stage2, _visit: number, idx: number, level: number, gfn: number, start: number): void {
    if (level > LEVEL_1G || gfn < start || !this.allowed(gfn, level)) return;
    const first = firstLeaf(s, pteChild(s.pool[idx]!));
    if (first === 0) return; // tdp_mmu_make_huge_spte(): -ENOENT, nothing to rebuild from
    const perms = first & (PTE_W | PTE_X | PTE_DIRTY | PTE_ACCESSED | PTE_PRIVATE) & ~(this.clearExec ? PTE_X : 0);
    this.dropper.zapSubtree(s, idx, level, gfn);
    s.setLeaf(idx, level, perms);
    this.recovered++;
  }
}

/** The first present leaf under table `table`, depth first, or 0. */
function firstLeaf(s: Stage2, table: number): number {
  for (let i = table * PTRS_PER_TABLE; i < (table + 1) * PTRS_PER_TABLE; i++) {
    const pte = s.pool[i]!;
    if (isLeaf(pte)) return pte;
    if (isTable(pte)) {
      const below = firstLeaf(s, pteChild(pte));
      if (below !== 0) return below;
    }
  }
  return 0;
}

/**
 * Intel PML's dirty-log arming: clear the D bit of 4K leaves (clear_dirty_pt_masked() /
 * kvm_tdp_mmu_clear_dirty_slot()); huge leaves are left to write protection.
 */
class ClearDirtyWalker implements Walker {
  readonly flags = WALK_LEAF;
  changed = 0;

  visit(s: Stage2, _visit: number, idx: number, level: number): void {
    const pte = s.pool[idx]!;
    if (level === 0 && isLeaf(pte) && (pte & PTE_DIRTY) !== 0) {
      s.pool[idx] = pte & ~PTE_DIRTY;
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
  private readonly mapper: MapWalker;
  private readonly splitter = new SplitWalker();
  private readonly wrprotector = new WrprotWalker();
  private readonly counter = new CountWalker();
  private readonly recoverer = new RecoverWalker(new ZapWalker(false));
  private readonly dirtyClearer = new ClearDirtyWalker();

  /** `breakBlocks`: arm64's map walker (stage2_map_walk_leaf()), see MapWalker. */
  constructor(
    readonly s2: Stage2,
    breakBlocks = false,
  ) {
    this.mapper = new MapWalker(this.zapper, breakBlocks);
  }

  /**
   * Map gfn at `level` (gfn need not be aligned, gfn < maxGfn) with `perms` (PTE_W / PTE_X / ... bits).
   *
   * A single-page fault descends the table directly from where the hit check's Stage2.lookup() of
   * the same gfn stopped (a fresh lookup if it was for another gfn), linking empty entries on the way
   * down, as x86's kvm_tdp_mmu_map() does (tdp_mmu_for_each_pte() over [gfn, gfn + 1), a table
   * linked into each empty entry, tdp_mmu_map_handle_target_level() at the end): no visitor call per
   * level. arm64's kvm_pgtable_stage2_map() gets there through its walker (stage2_map_walker()). The descent only does what the map walker does in those same cases (link
   * a table into an empty entry, install a leaf into an empty entry, update a leaf at the target
   * level); what it cannot do by itself (a leaf in the way, to be split on x86 or broken on arm64; a
   * table where a huge leaf goes, to be torn down) goes to the map walker, which redoes the descent
   * from the root: the tables the descent linked are walked through, so the result is the walker's in
   * every case, on both architectures. The architectures differ only in those walker cases.
   */
  map(gfn: number, level: number, perms: number): number {
    const s = this.s2;
    if (s.lastGfn !== gfn) s.lookup(gfn);
    let l = s.lastLevel;
    if (l < level) return this.walkMap(gfn, level, perms); // a table where the leaf goes
    let idx = s.lastIdx;
    let pte = s.pool[idx]!;
    // gfn's index bits below the root (gfn may exceed 2^32 in a 4-level table); only a descent needs them.
    const low = l > level ? gfn - Math.floor(gfn * LOW_INV) * LOW_PAGES : 0;
    while (l > level) {
      if (pte === 0) {
        s.linkTable(idx);
        pte = s.pool[idx]!;
      } else if ((pte & PTE_TABLE) === 0) {
        return this.walkMap(gfn, level, perms); // a huge leaf in the way
      }
      l--;
      idx = (pteChild(pte) << 9) | ((low >>> (9 * l)) & 511);
      pte = s.pool[idx]!;
    }
    if (pte === 0) {
      s.setLeaf(idx, level, perms);
      return MAP_NEW;
    }
    if ((pte & PTE_TABLE) !== 0) return this.walkMap(gfn, level, perms);
    // The map walker's leaf update: keep what the hardware recorded, add what the fault asked for.
    const updated = leafPte(level, perms | (pte & (PTE_DIRTY | PTE_ACCESSED)));
    if (updated === pte) return MAP_SPURIOUS;
    s.pool[idx] = updated;
    return MAP_UPDATED;
  }

  /** stage2_map_walker() through the generic walk: every case, including the fast path's leftovers. */
  walkMap(gfn: number, level: number, perms: number): number {
    const w = this.mapper;
    w.level = level;
    w.perms = perms;
    w.result = MAP_NEW;
    this.s2.walk(gfn, gfn + 1, w);
    if (w.replacedTable) {
      // tdp_mmu_map_handle_target_level(): kvm_flush_remote_tlbs_gfn() when the old entry was a table.
      w.replacedTable = false;
      this.s2.flushIf(true);
    }
    return w.result;
  }

  /** Zap every leaf overlapping gfns [start, end); one TLB flush if anything went. */
  zap(start: number, end: number): number {
    const n = this.zapNoFlush(start, end);
    this.s2.flushIf(n > 0);
    return n;
  }

  /** Zap without a flush, for a caller that flushes once for several ranges. */
  zapNoFlush(start: number, end: number): number {
    const w = this.zapper;
    w.zapped = 0;
    this.s2.walk(start, end, w);
    return w.zapped;
  }

  /** Split the huge leaves in [start, end) down to `level` (kvm_mmu_slot_try_split_huge_pages); one flush if any. */
  split(start: number, end: number, level: number): number {
    const n = this.splitNoFlush(start, end, level);
    this.s2.flushIf(n > 0);
    return n;
  }

  /**
   * Split without a flush: the eager split when dirty logging starts, whose caller flushes once after
   * write-protecting or clearing D bits (kvm_mmu_slot_try_split_huge_pages(): "No TLB flush is
   * necessary here").
   */
  splitNoFlush(start: number, end: number, level: number): number {
    const w = this.splitter;
    w.target = level;
    w.split = 0;
    this.s2.walk(start, end, w);
    return w.split;
  }

  /** Clear the D bit of the 4K leaves in [start, end) (PML); returns how many changed (the caller flushes). */
  clearDirty(start: number, end: number): number {
    const w = this.dirtyClearer;
    w.changed = 0;
    this.s2.walk(start, end, w);
    return w.changed;
  }

  /**
   * Write-protect the leaves at `minLevel` and above in [start, end) (kvm_mmu_slot_remove_write_access():
   * PG_LEVEL_2M write-protects huge leaves only, for PML); returns how many changed (the caller flushes once).
   */
  wrprot(start: number, end: number, minLevel = 0): number {
    const w = this.wrprotector;
    w.changed = 0;
    w.minLevel = minLevel;
    this.s2.walk(start, end, w);
    return w.changed;
  }

  /**
   * Rebuild huge leaves in place over [start, end) where `allowed(gfn, level)` (x86
   * kvm_mmu_recover_huge_pages()); one TLB flush if any was rebuilt. Returns how many.
   */
  recoverHuge(start: number, end: number, allowed: (gfn: number, level: number) => boolean, clearExec: boolean): number {
    const w = this.recoverer;
    w.recovered = 0;
    w.allowed = allowed;
    w.clearExec = clearExec;
    this.s2.walk(start, end, w);
    this.s2.flushIf(w.recovered > 0);
    return w.recovered;
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
