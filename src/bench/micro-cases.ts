// Micro-benchmark cases of the core: each times a batch of operations per call, because tinybench
// times one call per sample and a single 4K hit is a few nanoseconds, below the timer's resolution.

import { ACCESS_READ, ACCESS_WRITE } from '../core/outcome.js';
import type { Profile } from '../core/profile.js';
import { Vm } from '../core/vm.js';
import { BACKING_ANON, BACKING_THP } from '../trace/schema.js';

export interface MicroCase {
  name: string;
  /** What one "op" is, for the report. */
  unit: string;
  /** Operations one call of `run` performs. */
  opsPerCall: number;
  /** Untimed preparation before each timed call (e.g. zap what the previous call mapped). */
  beforeEach?: () => void;
  run: () => void;
}

const GIB = 1n << 30n;
const GFNS_PER_GIB = 1 << 18;
const GFNS_PER_2M = 512;
const RAM_GPA = 1n << 32n;
const RAM_HVA = 0x7f0000000000n;

function vmWithRam(profile: Profile, backing: number): Vm {
  const vm = new Vm(profile);
  vm.setBacking(RAM_HVA, GIB, backing);
  const r = vm.setUserMemoryRegion2(0, 0, RAM_GPA, GIB, RAM_HVA, 0, 0n);
  if (r !== 0) throw new Error(`micro-benchmark setup: memslot failed with ${r}`);
  return vm;
}

const ramGfn = Number(RAM_GPA >> 12n);

/** A deterministic permutation-like sequence (LCG), so every run touches the same gfns. */
function lcgSequence(count: number, modulo: number, seed: number): Uint32Array {
  const out = new Uint32Array(count);
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x % modulo;
  }
  return out;
}

/** Hits spread over `slots` one-page memslots: the cost of gfn -> slot lookup plus a table walk. */
function lookupCase(profile: Profile, slots: number): MicroCase {
  const vm = new Vm(profile);
  const stride = 2; // a hole between slots, so no two slots are adjacent
  vm.setBacking(RAM_HVA, BigInt(slots * stride) << 12n, BACKING_ANON);
  for (let id = 0; id < slots; id++) {
    const gpa = RAM_GPA + (BigInt(id * stride) << 12n);
    const r = vm.setUserMemoryRegion2(id, 0, gpa, 4096n, RAM_HVA + (BigInt(id * stride) << 12n), 0, 0n);
    if (r !== 0) throw new Error(`micro-benchmark setup: memslot ${id} failed with ${r}`);
  }
  const batch = 10_000;
  const order = lcgSequence(batch, slots, 12345);
  for (let id = 0; id < slots; id++) vm.access(0, ramGfn + id * stride, ACCESS_READ, 0);
  return {
    name: `hit.slots-${slots}`,
    unit: 'access',
    opsPerCall: batch,
    run: () => {
      for (let i = 0; i < batch; i++) vm.access(0, ramGfn + order[i]! * stride, ACCESS_READ, 0);
    },
  };
}

function hitCase(profile: Profile): MicroCase {
  const vm = vmWithRam(profile, BACKING_ANON);
  const pages = 4096;
  for (let i = 0; i < pages; i++) vm.access(0, ramGfn + i, ACCESS_WRITE, 0);
  const batch = 100_000;
  return {
    name: 'hit.4k',
    unit: 'access',
    opsPerCall: batch,
    run: () => {
      for (let i = 0; i < batch; i++) vm.access(0, ramGfn + (i & (pages - 1)), ACCESS_READ, 0);
    },
  };
}

function faultCase(profile: Profile, name: string, backing: number, stride: number, batch: number): MicroCase {
  const vm = vmWithRam(profile, backing);
  return {
    name,
    unit: 'fault',
    opsPerCall: batch,
    beforeEach: () => vm.unmapHva(RAM_HVA, GIB),
    run: () => {
      for (let i = 0; i < batch; i++) vm.access(0, ramGfn + i * stride, ACCESS_WRITE, 0);
    },
  };
}

function zapCase(profile: Profile): MicroCase {
  const vm = vmWithRam(profile, BACKING_ANON);
  return {
    name: 'zap.1g-of-4k',
    unit: 'zap of 262144 4K leaves',
    opsPerCall: 1,
    beforeEach: () => {
      for (let i = 0; i < GFNS_PER_GIB; i++) vm.access(0, ramGfn + i, ACCESS_WRITE, 0);
    },
    run: () => vm.unmapHva(RAM_HVA, GIB),
  };
}

export function microCases(profile: Profile): MicroCase[] {
  return [
    ...[1, 16, 512, 32764].map((slots) => lookupCase(profile, slots)),
    hitCase(profile),
    faultCase(profile, 'fault.4k', BACKING_ANON, 1, 4096),
    faultCase(profile, 'fault.2m', BACKING_THP, GFNS_PER_2M, 512),
    zapCase(profile),
  ];
}
