// The stage-2 page table: a radix tree of 512-entry tables in one Int32Array pool with a free list.
// The pool is reserved for the tables the memslots can need (reserveTables()) rather than grown by
// doubling: a large typed array is zeroed memory that the kernel maps page by page on first touch, so
// reserved tables that are never handed out cost no resident memory, where each doubling copied the
// whole pool and held the old and the new one at once.
// All work over ranges goes through ONE walker, `walk()`, with visitors called at leaf entries (and
// empty ones, for a walker that asks with WALK_EMPTY), before descending into a table and after
// returning from it, as arm64's kvm_pgtable_walk() does: one callback per walker, told which visit it is in, given the visit's
// context (entry, level, the walk's range) as arguments rather than reading fields of the table. Map, zap, split,
// write-protect and count are small visitors (./visitors.ts); none has its own loop over the tree.

import { M } from '../metrics.js';
import { ensureModelMemory } from '../model-memory.js';
import {
  LEVEL_4K,
  LEVEL_PAGES,
  PTE_TABLE,
  PTE_X,
  PTRS_PER_TABLE,
  isLeaf,
  leafPte,
  pteChild,
  pteLevel,
  tablePte,
} from './pte.js';

/** What a walker asks to visit, and which visit a callback is in (kvm_pgtable_walk_flags). */
export const WALK_LEAF = 1 << 0;
export const WALK_TABLE_PRE = 1 << 1;
export const WALK_TABLE_POST = 1 << 2;
/**
 * With WALK_LEAF: empty entries are visited too. Only a walker that fills entries asks (the map
 * walker); the others' callbacks would test the entry and return, as the kernel's do first
 * (stage2_unmap_walker(), stage2_attr_walker(): `if (!kvm_pte_valid(ctx->old))`), at the cost of a
 * call per entry of a sparse table.
 */
export const WALK_EMPTY = 1 << 3;

/**
 * A walk's callback and the visits it wants (arm64's struct kvm_pgtable_walker). The walker object is
 * also its own data (pgtable.c's `arg`): a method rather than a function value, so that V8 keeps the
 * call site's feedback per walker class and can inline the callback into the walk.
 */
export interface Walker {
  readonly flags: number;
  /**
   * Called for every visit the flags ask for; `visit` is WALK_LEAF, WALK_TABLE_PRE or WALK_TABLE_POST.
   * The rest is pgtable.c's struct kvm_pgtable_visit_ctx, passed as arguments so that a walk allocates
   * nothing: the entry's pool index (ptep), level and first gfn (addr), and the walk's range
   * [start, end).
   */
  visit(s: Stage2, visit: number, idx: number, level: number, gfn: number, start: number, end: number): void;
}

const INITIAL_TABLES = 64;
/**
 * Most tables reserveTables() sets aside ahead (1 GiB of pool): a memslot of terabytes would otherwise
 * reserve more address space than the machine may grant. Beyond it the pool grows by doubling.
 */
const MAX_RESERVED_TABLES = 2 ** 19;
/** Bytes one handed-out table holds: its entries, and its slots in nxDisallowed, tableLeaves and freeList. */
export const TABLE_BYTES = PTRS_PER_TABLE * 4 + 1 + 2 + 4;
/** Tables handed out between two asks of the model memory bound, at least (see checkTables()). */
const MIN_CHECKED_TABLES = 64;
const M_TLB_FLUSHES = M.tlb_flushes;
const L3_PAGES = LEVEL_PAGES[3];
/** 2^-27: multiplying by it is exact and cheaper than dividing by L3_PAGES. */
const L3_INV = 1 / L3_PAGES;
const LEVEL_INV = LEVEL_PAGES.map((pages) => 1 / pages);

export class Stage2 {
  /**
   * Level of the root table in the model's numbering (0 = 4K leaves): 3 for a 4-level table (48-bit
   * guest physical addresses, arm64 start level 0), 2 for a 3-level one (arm64's default 40-bit IPA
   * with the 4K granule: start level 1).
   */
  readonly rootLevel: number;
  /**
   * Pages of the root: arm64 concatenates up to 16 tables at the start level so that one level fewer
   * covers the IPA space (kvm_pgd_pages()): 2 for 40 bits from level 1. They are tables 0..n-1 of the
   * pool, so root entries are pool indices 0..512n-1.
   */
  readonly rootTables: number;
  /** First gfn the table cannot map (2^36 for 4 levels, 2^28 for a 40-bit 3-level table). */
  readonly maxGfn: number;
  pool: Int32Array;
  private freeList: Int32Array;
  private freeCount = 0;
  /** Tables handed out so far: the pool's prefix in use (freed ones are on the free list). */
  private nextTable = 0;
  /**
   * Tables the model memory bound has allowed (ensureModelMemory()): asked ahead in steps, so that a
   * fresh table costs no call to the bound.
   */
  private checkedTables = 0;
  /** Tables the pool and its side arrays have room for. */
  private capacity = INITIAL_TABLES;
  tablesLive = 0;
  /** Live leaves per level (0 = 4K, 1 = 2M, 2 = 1G): mapped.* is derived from these. */
  readonly leaves = new Float64Array(3);
  /**
   * Sharded replay only (src/replay/shard.ts): told of every TLB flush decision and of every table
   * linked or freed, so shards' counters can be merged exactly. Null otherwise: one test per event.
   */
  flushLog: ((flushed: boolean) => void) | null = null;
  /**
   * x86 NX huge pages (docs/kvm-rules.md, x86.nx-huge-pages): the 4K children of a split huge leaf
   * are executable (make_small_spte()), and tables made for an instruction fetch are marked
   * (sp->nx_huge_page_disallowed) so later faults keep their range small.
   */
  smallChildrenExec = false;
  nxDisallowed = new Uint8Array(INITIAL_TABLES);
  /**
   * Leaves in each table (entries that map something, not tables), kept by setLeaf(), dropLeaf(),
   * splitLeaf() and breakLeaf(): a zap of a whole table of 4K leaves knows how many it removes without
   * a scan of its 512 entries. arm64 keeps such a count too: the table page's refcount, taken per
   * counted entry (stage2_pte_is_counted(), mm_ops->get_page()/put_page()).
   */
  tableLeaves = new Int16Array(INITIAL_TABLES);
  onTablesChanged: (() => void) | null = null;
  constructor(
    rootLevel: number,
    readonly counters: Float64Array,
    rootTables = 1,
  ) {
    // lookup() is written for these two shapes, the only ones the profiles use.
    if (!((rootLevel === 3 && rootTables === 1) || (rootLevel === 2 && rootTables >= 1 && rootTables <= 16))) {
      throw new RangeError(`stage-2 root level ${rootLevel} with ${rootTables} root tables is not supported`);
    }
    this.rootLevel = rootLevel;
    this.rootTables = rootTables;
    this.maxGfn = LEVEL_PAGES[rootLevel]! * PTRS_PER_TABLE * rootTables;
    this.pool = new Int32Array(INITIAL_TABLES * PTRS_PER_TABLE);
    this.freeList = new Int32Array(INITIAL_TABLES);
    for (let t = 0; t < rootTables; t++) this.allocTable(); // the root, tables 0..rootTables-1
  }

  /** Walk every entry overlapping gfns [start, end), calling the walker as its flags ask (kvm_pgtable_walk()). */
  walk(start: number, end: number, walker: Walker): void {
    // The walker's flags are read once here: walkTable()'s loop then loads nothing from the walker
    // but calls its visit(), whatever the walker's class.
    const flags = walker.flags;
    if (this.rootTables === 1) {
      this.walkTable(0, this.rootLevel, 0, start, end, walker, flags);
      return;
    }
    // A concatenated root: each page is one table of the start level, side by side.
    const span = LEVEL_PAGES[this.rootLevel]! * PTRS_PER_TABLE;
    for (let t = 0; t < this.rootTables; t++) {
      const base = t * span;
      if (start < base + span && end > base) this.walkTable(t, this.rootLevel, base, start, end, walker, flags);
    }
  }

  /** Walk one table's subtree only (used to tear a subtree down from inside another walk). */
  walkSubtree(table: number, level: number, base: number, walker: Walker): void {
    this.walkTable(table, level, base, base, base + LEVEL_PAGES[level]! * PTRS_PER_TABLE, walker, walker.flags);
  }

  /** __kvm_pgtable_walk() of one table: its entries in [start, end), children depth first. */
  private walkTable(table: number, level: number, base: number, start: number, end: number, walker: Walker, flags: number): void {
    const span = LEVEL_PAGES[level]!;
    // Multiplying by 2^-9k is exact and cheaper than dividing.
    const inv = LEVEL_INV[level]!;
    let i = start > base ? Math.floor((start - base) * inv) : 0;
    const last = Math.min(PTRS_PER_TABLE, Math.ceil((end - base) * inv));
    for (; i < last; i++) {
      const idx = table * PTRS_PER_TABLE + i;
      const gfn = base + i * span;
      let pte = this.pool[idx]!;
      if (pte === 0 && (flags & WALK_EMPTY) === 0) continue;
      // __kvm_pgtable_visit(): a leaf (or empty) entry gets WALK_LEAF, a table entry WALK_TABLE_PRE;
      // the entry is read again after the callback, which may have replaced it.
      const visit = (pte & PTE_TABLE) === 0 ? WALK_LEAF : WALK_TABLE_PRE;
      if ((flags & visit) !== 0) {
        walker.visit(this, visit, idx, level, gfn, start, end);
        pte = this.pool[idx]!;
      }
      if ((pte & PTE_TABLE) === 0) continue;
      this.walkTable(pteChild(pte), level - 1, gfn, start, end, walker, flags);
      if ((flags & WALK_TABLE_POST) !== 0) walker.visit(this, WALK_TABLE_POST, idx, level, gfn, start, end);
    }
  }

  /**
   * Where the last lookup() stopped: the pool index and level of the entry it ended on (a leaf or an
   * empty entry) and the gfn it looked up. A fault right after a missed hit check resumes its descent
   * from there (Stage2Mmu.map()) instead of walking from the root again. lastGfn is NaN (equal to no
   * gfn; a double from the start, so that storing a gfn above 2^31 does not change the field's
   * representation and deoptimise its readers) once a table has been freed: the entry may then
   * belong to another table. An entry that became a table since
   * (linked, split) is still on gfn's path, so the resumed descent simply goes on through it.
   */
  lastIdx = -1;
  lastLevel = 0;
  lastGfn = NaN;

  /** The leaf mapping `gfn`, or 0: a descent to one entry, the hardware's walk, for the hit path. */
  lookup(gfn: number): number {
    const pool = this.pool;
    let idx: number;
    let pte: number;
    let low: number;
    this.lastGfn = gfn;
    if (this.rootLevel === 3) {
      // Split gfn into the root index and a 27-bit remainder so that the lower levels index with
      // integer shifts (gfn < 2^36 here: the caller checks maxGfn).
      const top = Math.floor(gfn * L3_INV);
      low = gfn - top * L3_PAGES;
      idx = top;
      pte = pool[idx]!;
      if ((pte & PTE_TABLE) === 0) return this.found(idx, 3, pte);
      idx = (pteChild(pte) << 9) | (low >>> 18);
    } else {
      // A 3-level table: gfn < 2^31 (at most 16 concatenated root pages), the root pages sit at pool
      // indices 0.. in order, so the root index is the gfn's top bits.
      low = gfn;
      idx = gfn >>> 18;
    }
    pte = pool[idx]!;
    if ((pte & PTE_TABLE) === 0) return this.found(idx, 2, pte);
    idx = (pteChild(pte) << 9) | ((low >>> 9) & 511);
    pte = pool[idx]!;
    if ((pte & PTE_TABLE) === 0) return this.found(idx, 1, pte);
    idx = (pteChild(pte) << 9) | (low & 511);
    return this.found(idx, 0, pool[idx]!);
  }

  private found(idx: number, level: number, pte: number): number {
    this.lastIdx = idx;
    this.lastLevel = level;
    return pte;
  }

  /**
   * A table with every entry `fill` (0: empty). A reused table is written whole (a zap leaves a freed
   * table's entries as they were); a fresh one is new zeroed memory and is written only for a non-zero
   * fill, which saves a 2 KiB write per table on first use.
   */
  allocTable(fill = 0): number {
    let t: number;
    let fresh = false;
    if (this.freeCount > 0) {
      t = this.freeList[--this.freeCount]!;
    } else {
      fresh = true;
      t = this.nextTable;
      if (t >= this.checkedTables) this.checkTables();
      if (t >= this.capacity) this.resize(this.capacity * 2);
      this.nextTable++;
    }
    if (!fresh || fill !== 0) this.pool.fill(fill, t * PTRS_PER_TABLE, (t + 1) * PTRS_PER_TABLE);
    this.nxDisallowed[t] = 0;
    this.tableLeaves[t] = 0;
    this.tablesLive++;
    if (this.tablesLive > this.counters[M.tables_peak]!) this.counters[M.tables_peak] = this.tablesLive;
    return t;
  }

  /**
   * Bytes of the tables handed out, with their places in the side arrays (src/core/model-memory.ts):
   * what the model has touched, not the capacity reserved for it, which costs nothing until used.
   */
  bytes(): number {
    return this.nextTable * TABLE_BYTES;
  }

  /**
   * Room for `tables` tables in all (the root included), set aside ahead of use: the memslot code
   * calls it with what the slots can need (tablesCovering()), so that the pool is not grown and copied
   * while they fill. Capped at MAX_RESERVED_TABLES; past the reservation the pool still grows.
   */
  reserveTables(tables: number): void {
    if (tables <= this.capacity) return;
    // At least doubled, as a growth would: many small slots added one by one reserve in few steps.
    const capacity = Math.min(Math.max(tables, this.capacity * 2), MAX_RESERVED_TABLES);
    if (capacity > this.capacity) this.resize(capacity);
  }

  /**
   * The most tables below the root that mappings of gfns [start, end) can need: at each level, one
   * per table-sized span the range touches (a bound for reserveTables(); tables shared with a
   * neighbouring range are counted for both).
   */
  tablesCovering(start: number, end: number): number {
    const last = Math.min(end, this.maxGfn) - 1;
    if (last < start) return 0;
    let tables = 0;
    // A table whose entries are at `level` spans 512 entries of LEVEL_PAGES[level] pages.
    for (let level = LEVEL_4K; level < this.rootLevel; level++) {
      const span = LEVEL_PAGES[level + 1]!;
      tables += Math.floor(last / span) - Math.floor(start / span) + 1;
    }
    return tables;
  }

  /**
   * The pool and its side arrays at `tables` tables of capacity. Only the tables handed out are
   * copied: the rest of the old arrays was never written, and reading it would fault its pages in.
   */
  private resize(tables: number): void {
    const used = this.nextTable;
    // The old arrays' used part and its copy are both held during the copy.
    ensureModelMemory(used * TABLE_BYTES, 'stage-2 table pool');
    const pool = new Int32Array(tables * PTRS_PER_TABLE);
    pool.set(this.pool.subarray(0, used * PTRS_PER_TABLE));
    this.pool = pool;
    const nx = new Uint8Array(tables);
    nx.set(this.nxDisallowed.subarray(0, used));
    this.nxDisallowed = nx;
    const leaves = new Int16Array(tables);
    leaves.set(this.tableLeaves.subarray(0, used));
    this.tableLeaves = leaves;
    const free = new Int32Array(tables);
    free.set(this.freeList.subarray(0, this.freeCount));
    this.freeList = free;
    this.capacity = tables;
  }

  /**
   * Ask the model memory bound for the next tables before handing them out: a step of an eighth of
   * those allowed so far (at least MIN_CHECKED_TABLES), so the bound is asked some dozens of times
   * over a replay rather than once per table. The model never holds tables the bound has not allowed;
   * a row may fail up to one step before its tables would have crossed the limit.
   */
  private checkTables(): void {
    const step = Math.max(MIN_CHECKED_TABLES, Math.floor(this.checkedTables / 8));
    ensureModelMemory(step * TABLE_BYTES, 'stage-2 table pool');
    this.checkedTables += step;
  }

  freeTable(t: number): void {
    this.freeList[this.freeCount++] = t;
    this.tablesLive--;
    this.lastGfn = NaN; // lookup()'s stopping point may have been in this table
    if (this.onTablesChanged !== null) this.onTablesChanged();
  }

  /** Count a TLB flush when `flushed`: KVM flushes once per operation that changed a live entry. */
  flushIf(flushed: boolean): void {
    if (this.flushLog !== null) this.flushLog(flushed);
    // Branch-free: inlined into many callers, a counter update that runs on every call always has
    // V8's type feedback, where one behind `if (flushed)` deoptimised each caller whose first flush
    // came after it was optimised.
    this.counters[M_TLB_FLUSHES] += flushed ? 1 : 0;
  }

  /**
   * Root entries that hold a table shared by several 1 GiB granules: in a 4-level table each covers
   * 512 GiB. A 3-level root's entries are 1 GiB each, so none is shared.
   */
  rootTableEntries(): number[] {
    const out: number[] = [];
    if (this.rootLevel < 3) return out;
    for (let i = 0; i < PTRS_PER_TABLE; i++) if ((this.pool[i]! & PTE_TABLE) !== 0) out.push(i);
    return out;
  }

  /** Install a leaf in an empty entry. */
  setLeaf(idx: number, level: number, perms: number): void {
    this.pool[idx] = leafPte(level, perms);
    this.leaves[level]!++;
    this.tableLeaves[idx >>> 9]!++;
  }

  /** Remove the leaf at `idx` (it must be one). */
  clearLeaf(idx: number): void {
    this.dropLeaf(idx);
    this.counters[M.zaps]!++;
  }

  /** Remove the leaf at `idx` without counting a zap: a huge leaf rebuilt in place took its place. */
  dropLeaf(idx: number): void {
    this.leaves[pteLevel(this.pool[idx]!)]!--;
    this.tableLeaves[idx >>> 9]!--;
    this.pool[idx] = 0;
  }

  /**
   * Replace the huge leaf at `idx` by a table of 512 leaves one level down with the same permissions
   * (KVM's eager or lazy huge page split). The walker then descends into the new table.
   */
  splitLeaf(idx: number, level: number): void {
    const pte = this.pool[idx]!;
    const perms = (pte & 0x7f) | (level === 1 && this.smallChildrenExec ? PTE_X : 0);
    const child = this.allocTable(leafPte(level - 1, perms));
    const pool = this.pool; // allocTable may have grown it
    pool[idx] = tablePte(child);
    this.leaves[level]!--;
    this.leaves[level - 1]! += PTRS_PER_TABLE;
    this.tableLeaves[idx >>> 9]!--;
    this.tableLeaves[child] = PTRS_PER_TABLE;
    this.counters[M.splits]!++;
    if (this.onTablesChanged !== null) this.onTablesChanged();
  }

  /**
   * arm64: a block in the way of a smaller mapping is broken (stage2_try_break_pte(), with its TLB
   * invalidation) and replaced by an EMPTY table (stage2_map_walk_leaf()); the rest of the block's
   * range faults again, lazily. The walker then descends into the new table.
   */
  breakLeaf(idx: number, level: number): void {
    const child = this.allocTable();
    this.pool[idx] = tablePte(child);
    this.leaves[level]!--;
    this.tableLeaves[idx >>> 9]!--;
    this.counters[M.breaks]!++;
    this.flushIf(true);
    if (this.onTablesChanged !== null) this.onTablesChanged();
  }

  /** Point an empty entry at a fresh empty table. */
  linkTable(idx: number): void {
    const child = this.allocTable();
    this.pool[idx] = tablePte(child);
    if (this.onTablesChanged !== null) this.onTablesChanged();
  }

  /** The table that the entry at `level` covering gfn points to, or -1 (a leaf or nothing there). */
  tableAt(gfn: number, level: number): number {
    let table = 0;
    for (let l = this.rootLevel; ; l--) {
      const pte = this.pool[table * PTRS_PER_TABLE + (Math.floor(gfn / LEVEL_PAGES[l]!) % PTRS_PER_TABLE)]!;
      if ((pte & PTE_TABLE) === 0) return -1;
      if (l === level) return pteChild(pte);
      table = pteChild(pte);
    }
  }

  isLeafAt(idx: number): boolean {
    return isLeaf(this.pool[idx]!);
  }
}

