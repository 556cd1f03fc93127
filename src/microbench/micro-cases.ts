// Micro-benchmark cases of the core: gfn -> slot lookup, random and sequential hits, 4K and 2M
// faults, zap. Each call runs a batch of operations, because tinybench times one call per sample and
// a single hit is a few nanoseconds, below the timer's resolution. `s2bench bench`, `run --micro` and bench/core.bench.ts
// (which adds the reference model) all time these same cases.

import { BACKING_ANON, BACKING_THP } from '../core/hostmm.js';
import { Memslots } from '../core/memslots.js';
import { ACCESS_READ, ACCESS_WRITE } from '../core/outcome.js';
import type { Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';

export interface MicroCase {
  name: string;
  /** What one "op" is, for the report. */
  unit: string;
  /** Operations one call of `run` performs. */
  opsPerCall: number;
  /** Untimed preparation before each timed call (e.g. rebuild what the previous call zapped). */
  beforeEach?: () => void;
  /** A fixed number of timed calls instead of a time budget (for cases with a costly beforeEach). */
  iterations?: number;
  /**
   * Calls the warm-up makes before it looks for steady timings: enough to run every branch the timed
   * calls will (a fault case's periodic unmap), so V8 does not optimise without their type feedback
   * and deoptimise in the middle of the measurement.
   */
  warmupCalls?: number;
  run: () => void;
}

export const BATCH = 10_000;
const HVA = 0x7f0000000000n;
const HVA_PAGE = 0x7f0000000;
/** 256 GiB: with the hva at 0x7f0000000000 the slot stays below x86-64's user address limit. */
const SLOT_PAGES = 2 ** 26;
const GIB_PAGES = 2 ** 18;
/** Hits go to a 64 MiB working set: mapped once, then only read. */
export const HIT_SET_PAGES = 16384;
/** Fault cases unmap their window every so many faults, so table memory is reused, not grown. */
export const FAULT_WINDOW_PAGES = 1 << 18;

/** A deterministic pseudo-random sequence (xorshift32), so every run measures the same work. */
export function randomInts(n: number, mod: number, seed = 2463534242): Float64Array {
  const out = new Float64Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % mod;
  }
  return out;
}

function lookupCase(nslots: number): CaseBody {
  const slots = new Memslots();
  // nslots slots of 512 pages each with a 512-page hole after each one.
  for (let id = 0; id < nslots; id++) slots.install(id, id * 1024, 512, 0, HVA_PAGE + id * 512);
  const gfns = randomInts(BATCH, nslots * 1024);
  let sink = 0;
  return {
    unit: 'gfn -> slot lookup',
    opsPerCall: BATCH,
    run: () => {
      for (let i = 0; i < BATCH; i++) sink += slots.lookup(0, gfns[i]!);
      if (sink === 0.5) throw new Error('unreachable: keeps the loop from being optimised away');
    },
  };
}

function bigSlotVm(profile: Profile, kind: number): Vm {
  const vm = new Vm(profile);
  vm.setBacking(HVA, BigInt(SLOT_PAGES) << 12n, kind);
  const r = vm.setUserMemoryRegion2(0, 0, 0n, BigInt(SLOT_PAGES) << 12n, HVA, -1, 0n);
  if (r !== 0) throw new Error(`benchmark slot creation failed: ${r}`);
  return vm;
}

function hitCase(profile: Profile): CaseBody {
  const vm = bigSlotVm(profile, BACKING_ANON);
  const gfns = randomInts(BATCH, HIT_SET_PAGES);
  for (let i = 0; i < BATCH; i++) vm.access(0, gfns[i]!, ACCESS_READ, 0);
  return {
    unit: 'access to a mapped 4K page',
    opsPerCall: BATCH,
    run: () => {
      for (let i = 0; i < BATCH; i++) vm.access(0, gfns[i]!, ACCESS_READ, 0);
    },
  };
}

/**
 * Sequential hits: one access row over the 4K-mapped working set (Vm.accessRange(), as the replay
 * engine runs a row), so one op is one page of the row.
 */
function sequentialHitCase(profile: Profile): CaseBody {
  const vm = bigSlotVm(profile, BACKING_ANON);
  vm.accessRange(0, 0, HIT_SET_PAGES, ACCESS_READ, 0);
  if (vm.stage2.leaves[0] !== HIT_SET_PAGES) throw new Error('sequential hit benchmark: working set not mapped at 4K');
  return {
    unit: 'page of an access row over mapped 4K pages',
    opsPerCall: HIT_SET_PAGES,
    run: () => {
      if (vm.accessRange(0, 0, HIT_SET_PAGES, ACCESS_READ, 0) !== 0) throw new Error('sequential hit benchmark: a page missed');
    },
  };
}

/**
 * Faults on fresh pages, `stride` pages apart, moving through the slot; every FAULT_WINDOW_PAGES faults
 * the mapped window is unmapped (its cost is part of the figure) so table memory is reused.
 */
function faultCase(profile: Profile, kind: number, stride: number): CaseBody {
  const vm = bigSlotVm(profile, kind);
  let next = 0;
  let windowStart = 0;
  return {
    unit: 'fault that installs a leaf',
    opsPerCall: BATCH,
    warmupCalls: Math.ceil(FAULT_WINDOW_PAGES / BATCH) + 2,
    run: () => {
      if ((next - windowStart) / stride >= FAULT_WINDOW_PAGES) {
        vm.unmapHva(HVA + (BigInt(windowStart) << 12n), BigInt(next - windowStart) << 12n);
        windowStart = next;
      }
      if (next + BATCH * stride > SLOT_PAGES) {
        vm.unmapHva(HVA, BigInt(SLOT_PAGES) << 12n);
        next = windowStart = 0;
      }
      for (let i = 0; i < BATCH; i++) {
        vm.access(0, next, ACCESS_WRITE, 0);
        next += stride;
      }
    },
  };
}

/** Zap of a fully 4K-mapped 1 GiB range: the mapping is rebuilt (untimed) before each timed zap. */
function zapCase(profile: Profile): CaseBody {
  const vm = bigSlotVm(profile, BACKING_ANON);
  return {
    unit: '4K leaf zapped',
    opsPerCall: GIB_PAGES,
    iterations: 20,
    beforeEach: () => {
      for (let gfn = 0; gfn < GIB_PAGES; gfn++) vm.access(0, gfn, ACCESS_READ, 0);
      if (vm.stage2.leaves[0] !== GIB_PAGES) throw new Error('zap benchmark: 1 GiB not mapped at 4K');
    },
    run: () => vm.unmapHva(HVA, 1n << 30n),
  };
}

/** A case as its builder returns it: everything but its name. */
type CaseBody = Omit<MicroCase, 'name'>;

/**
 * A case by name, built only when `build` is called. Building sets up the case's VM and runs its first
 * accesses, which feeds V8 type feedback for the model's shared code (Vm.access, the fault path): a
 * runner builds each case just before it times it, so no case is timed on code that another case's
 * set-up optimised for its own path.
 */
export interface MicroCaseEntry {
  name: string;
  build: () => MicroCase;
}

function entry(name: string, build: () => CaseBody): MicroCaseEntry {
  return { name, build: () => ({ name, ...build() }) };
}

export function microCases(profile: Profile): MicroCaseEntry[] {
  return [
    ...[1, 16, 512, 32764].map((n) => entry(`lookup.slots_${n}`, () => lookupCase(n))),
    entry('access.hit_4k', () => hitCase(profile)),
    entry('access.hit_seq_4k', () => sequentialHitCase(profile)),
    entry('fault.4k', () => faultCase(profile, BACKING_ANON, 1)),
    entry('fault.2m', () => faultCase(profile, BACKING_ANON | BACKING_THP, 512)),
    entry('zap.1g_of_4k', () => zapCase(profile)),
  ];
}
