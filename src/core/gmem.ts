// guest_memfd files (virt/kvm/guest_memfd.c): creation, bindings to memslots, fallocate, close, and
// the folios that back file pages. Files are named by the trace's ids (the `fd` column).
//
// Folios. Upstream guest_memfd allocates order-0 folios; the model adds the huge-folio designs being
// compared (profile knob gmem-folio=4k|2m|1g). A fault on an unallocated page allocates the largest
// folio, up to the file's folio size, whose aligned range lies inside the file and holds no allocated
// page yet (otherwise a smaller one). Each page remembers the size of the folio it was allocated in.
// A folio of level L still backs a mapping of level L only while it is whole (no page punched out of
// it) and, after conversions, per the split policy (gmem-split):
//   - `4k`: a huge folio whose gfns are not all private or all shared is split to 4K folios;
//   - `minimal`: it is split only down to the largest level whose aligned sub-range stays uniform.
// Either way the folio is merged back once its range is uniform again. The effective level is thus a
// function of (allocation, holes, attributes), evaluated on the fault path, and the conversion code
// counts splits and merges by comparing it before and after.

import {
  ERRNO,
  GUEST_MEMFD_FLAG_INIT_SHARED,
  GUEST_MEMFD_FLAG_MMAP,
  KVM_USER_MEM_SLOTS,
  PAGE_SHIFT,
  PAGE_SIZE,
} from './abi.js';
import type { MemoryAttributes } from './attributes.js';
import { RangeMap } from './range-map.js';

/** kvm_gmem_get_supported_flags() as observed on Linux 6.18 x86-64: MMAP and INIT_SHARED. */
export const GMEM_SUPPORTED_FLAGS = GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED;

// include/uapi/linux/falloc.h
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
/** FALLOC_FL_MODE_MASK | FALLOC_FL_KEEP_SIZE: the bits vfs_fallocate() lets through. */
const FALLOC_FL_KNOWN = 0x01 | 0x02 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80;

/** Folio size knob value -> level (0 = 4K, 1 = 2M, 2 = 1G). */
export const FOLIO_LEVELS = { '4k': 0, '2m': 1, '1g': 2 } as const;

const HPAGE_PAGES = [1, 512, 512 * 512] as const;
const PAGE_SHIFT_N = BigInt(PAGE_SHIFT);
const PAGE_MASK = BigInt(PAGE_SIZE - 1);
/** loff_t is signed: a u64 at or above 2^63 is a negative offset or size. */
const LOFF_MAX = (1n << 63n) - 1n;

class GmemFile {
  open = true;
  /** Pages allocated, valued (allocation level + 1). */
  readonly folios = new RangeMap();
  /** Slot ids bound to this file. */
  readonly bindings: number[] = [];
  constructor(
    readonly fd: number,
    readonly sizePages: number,
    readonly flags: bigint,
    /** Largest folio level this file allocates (gmem-folio). */
    readonly folioLevel: number,
    /** gmem-split=minimal (else 4k). */
    readonly splitMinimal: boolean,
  ) {}
}

export class GuestMemfds {
  private readonly files: GmemFile[] = [];
  /** Open files by the trace's fd id. */
  private readonly byFd = new Map<number, number>();
  /** File handle bound to each slot id, or -1. */
  readonly slotFile = new Int32Array(KVM_USER_MEM_SLOTS).fill(-1);
  readonly slotPgoff = new Float64Array(KVM_USER_MEM_SLOTS);
  readonly slotNpages = new Float64Array(KVM_USER_MEM_SLOTS);
  /** Split and merge counts of the last endConversion(). */
  lastSplits = 0;
  lastMerges = 0;
  private conv: Candidate[] = [];

  /** KVM_CREATE_GUEST_MEMFD (kvm_gmem_create()): 0 or -EINVAL. */
  create(fd: number, size: bigint, flags: bigint, folioLevel = 1, splitMinimal = true): number {
    if ((flags & ~GMEM_SUPPORTED_FLAGS) !== 0n) return -ERRNO.EINVAL;
    if (size === 0n || size > LOFF_MAX || (size & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
    // A trace id reused while its file is open names the new file from now on; the old file stays
    // alive behind its bindings, as the process would still hold it under another number.
    this.byFd.set(fd, this.files.length);
    this.files.push(new GmemFile(fd, Number(size >> PAGE_SHIFT_N), flags, folioLevel, splitMinimal));
    return 0;
  }

  /** Bytes of the files' folio maps (src/core/model-memory.ts). */
  bytes(): number {
    let n = 0;
    for (const f of this.files) n += f.folios.bytes();
    return n;
  }

  /** The handle of the open file with trace id `fd`, or -1. */
  handleOf(fd: number): number {
    return this.byFd.get(fd) ?? -1;
  }

  /**
   * kvm_gmem_bind(): bind `size` bytes of file `fd` at byte `offset` to memslot `slotKey`
   * (as_id << 16 | id). Returns 0 or -errno (EBADF for a closed or unknown fd, EINVAL for a bad range
   * or an overlap with another binding of the same file).
   */
  bind(fd: number, offset: bigint, size: bigint, slotKey: number): number {
    const h = this.handleOf(fd);
    if (h < 0) return -ERRNO.EBADF;
    const f = this.files[h]!;
    if (offset > LOFF_MAX || (offset & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
    if (offset + size > BigInt(f.sizePages) << PAGE_SHIFT_N) return -ERRNO.EINVAL;
    const start = Number(offset >> PAGE_SHIFT_N);
    const end = start + Number(size >> PAGE_SHIFT_N);
    for (const other of f.bindings) {
      const os = this.slotPgoff[other]!;
      if (os < end && start < os + this.slotNpages[other]!) return -ERRNO.EINVAL;
    }
    const id = slotKey & 0xffff;
    f.bindings.push(id);
    this.slotFile[id] = h;
    this.slotPgoff[id] = start;
    this.slotNpages[id] = end - start;
    return 0;
  }

  /** kvm_gmem_unbind(): the slot is deleted (nothing to do if its file was closed already). */
  unbind(fd: number, slotKey: number): void {
    void fd;
    const id = slotKey & 0xffff;
    const h = this.slotFile[id]!;
    if (h < 0) return;
    const f = this.files[h]!;
    const k = f.bindings.indexOf(id);
    if (k >= 0) f.bindings.splice(k, 1);
    this.slotFile[id] = -1;
  }

  /** The allocated runs of open file `fd` as [start, end, allocation level] (for tests and tools). */
  runsOf(fd: number): Array<[number, number, number]> {
    const h = this.handleOf(fd);
    if (h < 0) return [];
    const m = this.files[h]!.folios;
    const out: Array<[number, number, number]> = [];
    for (let i = 0; i < m.count; i++) out.push([m.starts[i]!, m.ends[i]!, m.values[i]! - 1]);
    return out;
  }

  /** Slot ids bound to file handle `h` (do not modify). */
  bindingsOf(h: number): readonly number[] {
    return this.files[h]!.bindings;
  }

  /**
   * fallocate() on a guest_memfd: vfs_fallocate()'s checks, then kvm_gmem_fallocate()'s, in the
   * kernel's order. Punching drops the pages (the caller zaps their mappings); allocating
   * (KEEP_SIZE) allocates folios as faults would. Returns 0 or -errno.
   */
  fallocate(fd: number, mode: number, offset: bigint, len: bigint): number {
    const h = this.handleOf(fd);
    if (h < 0) return -ERRNO.EBADF;
    if (offset > LOFF_MAX || len === 0n || len > LOFF_MAX) return -ERRNO.EINVAL;
    if ((mode & ~FALLOC_FL_KNOWN) !== 0) return -ERRNO.EOPNOTSUPP;
    if ((mode & FALLOC_FL_PUNCH_HOLE) !== 0 && (mode & FALLOC_FL_KEEP_SIZE) === 0) return -ERRNO.EOPNOTSUPP;
    if (offset + len > LOFF_MAX) return -ERRNO.EFBIG;
    // kvm_gmem_fallocate()
    if ((mode & FALLOC_FL_KEEP_SIZE) === 0) return -ERRNO.EOPNOTSUPP;
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE)) !== 0) return -ERRNO.EOPNOTSUPP;
    if ((offset & PAGE_MASK) !== 0n || (len & PAGE_MASK) !== 0n) return -ERRNO.EINVAL;
    const f = this.files[h]!;
    // kvm_gmem_allocate(): allocation may not reach past the end of the file (docs/kvm-rules.md,
    // common.gmem-alloc); a punch there is accepted and does nothing.
    if ((mode & FALLOC_FL_PUNCH_HOLE) === 0 && offset + len > BigInt(f.sizePages) << PAGE_SHIFT_N) return -ERRNO.EINVAL;
    const start = Number(offset >> PAGE_SHIFT_N);
    // Pages past the end of the file hold nothing: punching there succeeds and does nothing.
    const end = Math.min(f.sizePages, Number((offset + len) >> PAGE_SHIFT_N));
    if ((mode & FALLOC_FL_PUNCH_HOLE) !== 0) {
      f.folios.set(start, end, 0);
    } else if (f.folioLevel === 0) {
      // Order-0 folios only: every hole in the range becomes allocated at once.
      for (let p = start; p < end; ) {
        const i = f.folios.firstEndAfter(p);
        if (i < f.folios.count && f.folios.starts[i]! <= p) {
          p = f.folios.ends[i]!; // allocated already
          continue;
        }
        const holeEnd = i < f.folios.count ? Math.min(end, f.folios.starts[i]!) : end;
        f.folios.set(p, holeEnd, 1);
        p = holeEnd;
      }
    } else {
      for (let p = start; p < end; p++) {
        const i = f.folios.find(p);
        if (i >= 0) p = f.folios.ends[i]! - 1;
        else this.allocate(f, p);
      }
    }
    return 0;
  }

  /**
   * Close the file (kvm_gmem_release()): its bindings lose the file (the slots stay, and private
   * faults on them find no backing, kvm_gmem_get_pfn() -> -EFAULT); the caller zaps the mappings.
   * Returns 0 or -EBADF.
   */
  close(fd: number): number {
    const h = this.handleOf(fd);
    if (h < 0) return -ERRNO.EBADF;
    this.files[h]!.open = false;
    this.byFd.delete(fd);
    return 0;
  }

  /**
   * The largest mapping level (0 = 4K, 1 = 2M, 2 = 1G) the folio holding file page `pgoff` allows, or
   * -1 when the file has no backing there (closed, unknown, or past its end). The folio is allocated if
   * the page has none (kvm_gmem_get_pfn() grabs it). This is the file's own view, before conversion
   * splits; the fault path asks slotFolioLevel(), which knows the gfn.
   */
  folioLevel(fd: number, pgoff: number): number {
    const h = this.handleOf(fd);
    if (h < 0) return -1;
    const f = this.files[h]!;
    if (pgoff < 0 || pgoff >= f.sizePages) return -1;
    return this.levelAt(f, pgoff, -1, undefined);
  }

  /**
   * The fault path's question for a private fault on slot `id` at file page `pgoff` (gfn `gfn`): the
   * folio level, or -1 when the slot has no guest_memfd or its file was closed. No allocation except
   * a new folio's run.
   */
  slotFolioLevel(id: number, pgoff: number, gfn: number, attributes: MemoryAttributes): number {
    const h = this.slotFile[id]!;
    if (h < 0) return -1;
    const f = this.files[h]!;
    if (!f.open) return -1;
    return this.levelAt(f, pgoff, gfn, attributes);
  }

  private levelAt(f: GmemFile, pgoff: number, gfn: number, attributes: MemoryAttributes | undefined): number {
    let i = f.folios.find(pgoff);
    if (i < 0) i = this.allocate(f, pgoff);
    return effectiveLevel(f, i, pgoff, gfn, attributes);
  }

  /** Allocate the folio for unallocated page `pgoff`; returns the run holding it. */
  private allocate(f: GmemFile, pgoff: number): number {
    for (let level = f.folioLevel; level > 0; level--) {
      const pages = HPAGE_PAGES[level]!;
      const start = pgoff - (pgoff % pages);
      if (start + pages <= f.sizePages && !f.folios.any(start, start + pages)) {
        f.folios.set(start, start + pages, level + 1);
        return f.folios.find(pgoff);
      }
    }
    f.folios.set(pgoff, pgoff + 1, 1);
    return f.folios.find(pgoff);
  }

  // ---- conversions -----------------------------------------------------------------------------

  /**
   * Before the attributes of gfns [start, end) change: note the effective level of every huge folio
   * whose level may change (those the range cuts, and those inside it that are mixed now), per 2M
   * unit. `baseGfn` gives each slot's first gfn.
   */
  beginConversion(baseGfn: Float64Array, start: number, end: number, attributes: MemoryAttributes): void {
    const conv: Candidate[] = [];
    for (let h = 0; h < this.files.length; h++) {
      const f = this.files[h]!;
      if (!f.open) continue;
      for (const id of f.bindings) {
        const base = baseGfn[id]!;
        const pgoff = this.slotPgoff[id]!;
        const from = Math.max(start, base);
        const to = Math.min(end, base + this.slotNpages[id]!);
        if (from >= to) continue;
        const fs = pgoff + (from - base);
        const fe = pgoff + (to - base);
        const runs = f.folios;
        let lastChunk = -1;
        for (let r = runs.firstEndAfter(fs); r < runs.count; r++) {
          if (runs.starts[r]! >= fe) break;
          const level = runs.values[r]! - 1;
          if (level === 0) continue;
          const pages = HPAGE_PAGES[level]!;
          const lo = Math.max(fs, runs.starts[r]!);
          const hi = Math.min(fe, runs.ends[r]!);
          for (let c = lo - (lo % pages); c < hi; c += pages) {
            if (c === lastChunk) continue;
            lastChunk = c;
            const g = base + (c - pgoff);
            if (c >= fs && c + pages <= fe && !attributes.rangeMixed(g, g + pages)) continue;
            conv.push({ f, chunk: c, level, gfn: g, before: this.unitLevels(f, c, level, g, attributes) });
          }
        }
      }
    }
    this.conv = conv;
  }

  /** After the change: count folio splits and merges (lastSplits, lastMerges). */
  endConversion(attributes: MemoryAttributes): void {
    let splits = 0;
    let merges = 0;
    for (const cand of this.conv) {
      const after = this.unitLevels(cand.f, cand.chunk, cand.level, cand.gfn, attributes);
      const before = cand.before;
      // A 1G folio splits into 2M ones (1), then each 2M unit that loses its level splits to 4K (1 each).
      let wasWhole = cand.level === 2;
      let isWhole = cand.level === 2;
      for (let u = 0; u < before.length; u++) {
        const b = before[u]!;
        const a = after[u]!;
        if (b !== 2) wasWhole = false;
        if (a !== 2) isWhole = false;
        if (b >= 1 && a === 0) splits++;
        else if (b === 0 && a >= 1) merges++;
      }
      if (wasWhole && !isWhole) splits++;
      else if (!wasWhole && isWhole) merges++;
    }
    this.conv = [];
    this.lastSplits = splits;
    this.lastMerges = merges;
  }

  /**
   * Effective level of each 2M unit of the huge folio chunk at `chunk` (a hole counts as 0): the same
   * rule as effectiveLevel(), with the chunk-wide test done once rather than per unit.
   */
  private unitLevels(f: GmemFile, chunk: number, level: number, gfn: number, attributes: MemoryAttributes): Uint8Array {
    const pages2m = HPAGE_PAGES[1];
    const units = HPAGE_PAGES[level]! / pages2m;
    const out = new Uint8Array(units);
    const runs = f.folios;
    const i = runs.find(chunk);
    const whole = i >= 0 && runs.values[i]! - 1 === level && runs.ends[i]! >= chunk + HPAGE_PAGES[level]!;
    if (whole && !attributes.rangeMixed(gfn, gfn + HPAGE_PAGES[level]!)) return out.fill(level);
    if (level === 1 || !f.splitMinimal) return out;
    // A 1G chunk, not whole or not uniform: a 2M unit keeps level 1 when one run of huge allocation
    // covers it and no attribute boundary falls strictly inside it. Both are read off the runs, so
    // the cost follows the number of runs, not the 512 units.
    const chunkEnd = chunk + HPAGE_PAGES[level]!;
    for (let r = runs.firstEndAfter(chunk); r < runs.count && runs.starts[r]! < chunkEnd; r++) {
      if (runs.values[r]! < 2) continue;
      const lo = Math.max(chunk, runs.starts[r]!) - chunk;
      const hi = Math.min(chunkEnd, runs.ends[r]!) - chunk;
      out.fill(1, Math.ceil(lo / pages2m), Math.floor(hi / pages2m));
    }
    const attrs = attributes.private;
    const gEnd = gfn + HPAGE_PAGES[level]!;
    for (let r = attrs.firstEndAfter(gfn); r < attrs.count && attrs.starts[r]! < gEnd; r++) {
      const s = attrs.starts[r]! - gfn;
      const e = attrs.ends[r]! - gfn;
      if (s > 0 && s % pages2m !== 0) out[Math.floor(s / pages2m)] = 0;
      if (e < gEnd - gfn && e % pages2m !== 0) out[Math.floor(e / pages2m)] = 0;
    }
    return out;
  }
}

interface Candidate {
  f: GmemFile;
  chunk: number;
  level: number;
  gfn: number;
  before: Uint8Array;
}

/**
 * The level the folio holding `pgoff` (in run `i`) backs: its allocation level while the aligned
 * range is whole (one run of that allocation level covers it) and, when `gfn` >= 0, uniform in
 * attributes as the split policy requires.
 */
function effectiveLevel(
  f: GmemFile,
  i: number,
  pgoff: number,
  gfn: number,
  attributes: MemoryAttributes | undefined,
): number {
  const runs = f.folios;
  const alloc = runs.values[i]! - 1;
  if (alloc === 0) return 0;
  const s = runs.starts[i]!;
  const e = runs.ends[i]!;
  const lowest = f.splitMinimal ? 1 : alloc;
  for (let level = alloc; level >= lowest; level--) {
    const pages = HPAGE_PAGES[level]!;
    const a = pgoff - (pgoff % pages);
    if (a < s || a + pages > e) continue;
    if (gfn >= 0 && attributes !== undefined) {
      const g = gfn - (pgoff - a);
      if (attributes.rangeMixed(g, g + pages)) continue;
    }
    return level;
  }
  return 0;
}
