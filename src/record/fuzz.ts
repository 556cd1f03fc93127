// Random ioctl and access sequences for recording on the real kernel: mostly plausible VMM behaviour
// (slots created, moved, re-flagged, deleted, guest_memfd bound, punched and closed, dirty logs read
// while the guest writes) mixed with the invalid calls the model must reject the same way (overlaps,
// misalignment, bad flags and hvas, gmem bind conflicts, deletes of missing slots). Deterministic per seed.
// No `attrs` rows: the default VM type has no memory attributes (KVM_SET_MEMORY_ATTRIBUTES is ENOTTY
// there, as the model answers under vm-type=default; test/fixtures/recorded/attrs-*.csv).

import type { TraceRow } from '../trace/row.js';
import { Prng } from './prng.js';

/** Every gpa the fuzzer uses stays below this: the recorder's guest maps [0, 64 GiB) and owns its top. */
export const FUZZ_GPA_LIMIT = 0x400000000n; // 16 GiB
const HVA_BASE = 0x7f0000000000n;
const GPA_BASES = [0n, 0x200000n, 0x400000n, 0x10000000n, 0x40000000n, 0x100000000n, 0x140000000n];
const SIZES = [0x1000n, 0x4000n, 0x10000n, 0x200000n, 0x400000n];
const SLOT_IDS = [0, 1, 2, 3, 4, 5, 31, 509];
const BAD_SLOT_IDS = [32764, 0x10000, 0x1ffff];
const MEMSLOT_FLAGS = ['', '', 'log', 'ro', 'log|ro'];
const GMEM_SIZES = [0x400000n, 0x200000n, 0x800000n, 0x1234n, 0n];
const GMEM_FLAGS: Array<bigint | string> = [0n, 0n, 0n, 'mmap', 'init_shared', 1n << 63n];

interface FuzzSlot {
  gpa: bigint;
  size: bigint;
  hva: bigint;
  flags: string;
  fd?: number;
  offset?: bigint;
}

/** What the generator believes the VM holds (it only steers choices: the kernel decides). */
class FuzzState {
  readonly slots = new Map<number, FuzzSlot>();
  readonly fds: number[] = [];
  readonly closed: number[] = [];
  nextFd = 1;
}

export interface FuzzOptions {
  /** Rows per sequence (default 32). */
  rows?: number;
}

/** Sequence `index` of seed `seed`: the same pair always gives the same rows. */
export function fuzzSequence(seed: number, index: number, options: FuzzOptions = {}): TraceRow[] {
  const rng = new Prng((seed * 0x9e3779b1 + index * 0x85ebca77 + 1) >>> 0);
  const state = new FuzzState();
  const rows: TraceRow[] = [];
  const count = options.rows ?? 32;
  while (rows.length < count) rows.push(...step(rng, state));
  return rows.slice(0, count);
}

function hvaFor(rng: Prng, slot: number): bigint {
  // Mostly one distinct 1 GiB window per slot id; sometimes shared (aliasing is legal).
  const window = rng.chance(0.85) ? BigInt(slot % 64) : BigInt(rng.below(4));
  return HVA_BASE + (window << 30n) + BigInt(rng.below(4)) * 0x200000n;
}

function existing(rng: Prng, state: FuzzState): [number, FuzzSlot] | undefined {
  const entries = [...state.slots.entries()];
  return entries.length === 0 ? undefined : rng.pick(entries);
}

function memslotRow(slot: number, s: FuzzSlot): TraceRow {
  const row: TraceRow = { op: 'memslot', slot, gpa: s.gpa, size: s.size, hva: s.hva, flags: s.flags === '' ? 0n : s.flags };
  if (s.fd !== undefined) {
    row.fd = s.fd;
    row.offset = s.offset ?? 0n;
  }
  return row;
}

function accessGpa(rng: Prng, state: FuzzState): bigint {
  const e = existing(rng, state);
  if (e !== undefined && rng.chance(0.8)) {
    const [, s] = e;
    const pages = Number(s.size >> 12n);
    return s.gpa + BigInt(rng.below(Math.max(pages, 1))) * 0x1000n + BigInt(rng.below(4) * 8);
  }
  return rng.pick(GPA_BASES) + BigInt(rng.below(16)) * 0x1000n;
}

function step(rng: Prng, state: FuzzState): TraceRow[] {
  const r = rng.below(100);
  if (r < 16) {
    // Create a slot (valid unless it overlaps: the kernel says EEXIST).
    const slot = rng.pick(SLOT_IDS);
    const s: FuzzSlot = { gpa: rng.pick(GPA_BASES), size: rng.pick(SIZES), hva: hvaFor(rng, slot), flags: rng.pick(MEMSLOT_FLAGS) };
    if (!state.slots.has(slot)) state.slots.set(slot, s);
    // Sometimes THP-backed, so huge leaves exist when logging starts (they must split, and count 4K).
    if (rng.chance(0.3)) return [{ op: 'backing', hva: s.hva, size: s.size, flags: 'anon|thp' }, memslotRow(slot, s)];
    return [memslotRow(slot, s)];
  }
  if (r < 22) {
    // Invalid memslot calls.
    const slot = rng.pick(SLOT_IDS);
    const s: FuzzSlot = { gpa: rng.pick(GPA_BASES), size: rng.pick(SIZES), hva: hvaFor(rng, slot), flags: rng.pick(MEMSLOT_FLAGS) };
    let flags: bigint | string = s.flags === '' ? 0n : s.flags;
    let sid = slot;
    switch (rng.below(8)) {
      case 0: s.gpa += 0x800n; break;
      case 1: s.size += 0x800n; break;
      case 2: s.hva = 0x7f0000000800n; break;
      case 3: s.hva = 0xffff800000000000n; break;
      case 4: flags = rng.pick([0x8n, 0x10n, 0x80000000n]); break;
      case 5: flags = rng.pick(['gmem|ro', 'gmem|log']); break;
      case 6: sid = rng.pick(BAD_SLOT_IDS); break;
      default: s.gpa = 0xffffffffff000n; s.size = 0x2000n; break;
    }
    return [{ op: 'memslot', slot: sid, gpa: s.gpa, size: s.size, hva: s.hva, flags }];
  }
  if (r < 30) {
    // Delete an existing slot, or one that does not exist.
    const e = existing(rng, state);
    if (e !== undefined && rng.chance(0.75)) {
      const [slot, s] = e;
      state.slots.delete(slot);
      return [{ ...memslotRow(slot, s), size: 0n }];
    }
    return [{ op: 'memslot', slot: rng.pick(SLOT_IDS), gpa: 0n, size: 0n, hva: HVA_BASE, flags: 0n }];
  }
  if (r < 38) {
    // Update an existing slot: move, flag change, identical, or a forbidden change.
    const e = existing(rng, state);
    if (e === undefined) return [];
    const [slot, s] = e;
    const next = { ...s };
    switch (rng.below(6)) {
      case 0: next.gpa = rng.pick(GPA_BASES); break;
      case 1: next.flags = s.flags.includes('log') ? s.flags.replace(/log\|?/, '') : s.flags === '' ? 'log' : `log|${s.flags}`; break;
      case 2: break;
      case 3: next.hva = s.hva + 0x200000n; break;
      case 4: next.size = s.size * 2n; break;
      default: next.flags = s.flags.includes('ro') ? s.flags.replace(/\|?ro/, '') : s.flags === '' ? 'ro' : `${s.flags}|ro`; break;
    }
    if (s.fd === undefined && (next.gpa !== s.gpa || next.flags !== s.flags) && next.hva === s.hva && next.size === s.size) {
      state.slots.set(slot, next); // the kernel may still refuse (EEXIST, ro toggle): only a guess
    }
    return [memslotRow(slot, next)];
  }
  if (r < 44) {
    const fd = state.nextFd++;
    const size = rng.pick(GMEM_SIZES);
    const flags = rng.pick(GMEM_FLAGS);
    if (size !== 0n && size % 0x1000n === 0n && (flags === 0n || typeof flags === 'string')) state.fds.push(fd);
    return [{ op: 'gmem_create', size, flags, fd }];
  }
  if (r < 52) {
    // Bind a slot to a guest_memfd: open, closed or unknown fd; offsets that may overlap a binding.
    const slot = rng.pick(SLOT_IDS);
    const fd = state.fds.length > 0 && rng.chance(0.8) ? rng.pick(state.fds) : state.closed.length > 0 && rng.chance(0.5) ? rng.pick(state.closed) : 999;
    const s: FuzzSlot = {
      gpa: rng.pick(GPA_BASES),
      size: rng.pick([0x1000n, 0x10000n, 0x200000n]),
      hva: hvaFor(rng, slot),
      flags: 'gmem',
      fd,
      offset: rng.pick([0n, 0n, 0x1000n, 0x100000n, 0x200000n, 0x3ff000n, 0x800n]),
    };
    if (!state.slots.has(slot)) state.slots.set(slot, s);
    return [memslotRow(slot, s)];
  }
  if (r < 58) {
    const fd = state.fds.length > 0 && rng.chance(0.85) ? rng.pick(state.fds) : rng.pick([...state.closed, 999]);
    return [{
      op: rng.chance(0.6) ? 'gmem_punch' : 'gmem_alloc',
      fd,
      offset: rng.pick([0n, 0x1000n, 0x200000n, 0x7n, 0x1000000n]),
      size: rng.pick([0x1000n, 0x200000n, 0n, 0x1001n, 0x400000n]),
    }];
  }
  if (r < 61) {
    if (state.fds.length === 0) return [];
    const fd = state.fds.splice(rng.below(state.fds.length), 1)[0]!;
    state.closed.push(fd);
    return [{ op: 'gmem_close', fd }];
  }
  if (r < 69) {
    const e = existing(rng, state);
    const slot = e !== undefined && rng.chance(0.85) ? e[0] : rng.pick(SLOT_IDS);
    return [{ op: 'dirty_get', slot }];
  }
  if (r < 73) {
    // The VMM drops (MADV_DONTNEED) or touches part of a slot's memory: mmu-notifier invalidation.
    const e = existing(rng, state);
    if (e === undefined) return [];
    const [, s] = e;
    const hva = s.hva + BigInt(rng.below(Math.max(Number(s.size >> 12n), 1))) * 0x1000n;
    return [{ op: rng.chance(0.6) ? 'unmap_hva' : 'host_write', hva, size: rng.pick([0x1000n, 0x2000n, 0x10000n]) }];
  }
  if (r < 75) {
    const e = existing(rng, state);
    const slot = e !== undefined ? e[0] : rng.pick(SLOT_IDS);
    return [{ op: 'dirty_clear', slot, offset: rng.pick([0n, 64n, 1n]), size: rng.pick([64n, 1n, 0n]) }];
  }
  // Guest accesses: mostly inside a slot; some span pages; some hit no slot (MMIO).
  const op = rng.pick(['read', 'write', 'write', 'write', 'exec'] as const);
  const row: TraceRow = { op, vcpu: rng.chance(0.8) ? 0 : 1, gpa: accessGpa(rng, state) };
  if (rng.chance(0.15)) row.size = rng.pick([0x2000n, 0x3000n, 0x10000n, 0x200000n]);
  return [row];
}
