// Generator `conversions`: private/shared conversions the way the kernel's
// tools/testing/selftests/kvm/x86/private_mem_conversions_test.c drives them. One guest_memfd backs a
// data region at 4 GiB; every vCPU owns `size` bytes of it, all private at start, and the guest
// initialises its region. Then the vCPUs (interleaved, as they run concurrently) repeat the test's
// stage: write a sub-range as private, ask the host to make it shared (KVM_HC_MAP_GPA_RANGE ->
// KVM_SET_MEMORY_ATTRIBUTES, and with `punch` a hole punched in the guest_memfd as the test's
// do_fallocate does), check that a private access to it now exits, let the host write it, read it as
// shared, check that the neighbouring pages are still private, then convert it back and rewrite it as
// private. Every row carries the answer the kernel gives, and `expect` rows close the trace, so
// `replay --check` verifies the model on it.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

import { PAGE_SIZE } from '../../core/abi.js';
import type { TraceRow } from '../row.js';
import { genMeta, type GeneratedTrace, type GeneratorOption } from './common.js';

export type { GeneratedTrace } from './common.js';

export interface ConversionsGenOptions {
  /** Bytes owned by each vCPU (a multiple of `granularity`). */
  size: number;
  vcpus: number;
  /** Bytes converted at a time (a multiple of 4 KiB). */
  granularity: number;
  /** Conversion round trips per vCPU. */
  rounds: number;
  /** Punch the converted range out of the guest_memfd when it becomes shared. */
  punch: boolean;
  seed: number;
}

export const CONVERSIONS_GEN_DEFAULTS: ConversionsGenOptions = {
  size: 64 << 20,
  vcpus: 4,
  granularity: PAGE_SIZE,
  rounds: 1024,
  punch: false,
  seed: 1,
};

/** What `s2bench gen conversions` offers (names as in ConversionsGenOptions). */
export const CONVERSIONS_OPTIONS: readonly GeneratorOption[] = [
  { name: 'size', description: 'bytes owned by each vCPU (a multiple of granularity)', default: CONVERSIONS_GEN_DEFAULTS.size, kind: 'int', min: PAGE_SIZE },
  { name: 'vcpus', description: 'vCPUs, each converting in its own region', default: CONVERSIONS_GEN_DEFAULTS.vcpus, kind: 'int', min: 1, max: 4096 },
  { name: 'granularity', description: 'bytes converted at a time (a multiple of 4096)', default: CONVERSIONS_GEN_DEFAULTS.granularity, kind: 'int', min: PAGE_SIZE },
  { name: 'rounds', description: 'conversion round trips per vCPU', default: CONVERSIONS_GEN_DEFAULTS.rounds, kind: 'int', min: 0 },
  { name: 'punch', description: 'punch the range out of the guest_memfd when it becomes shared (the selftest\'s fallocate mode)', default: CONVERSIONS_GEN_DEFAULTS.punch, kind: 'bool' },
  { name: 'seed', description: 'random seed for the converted ranges', default: CONVERSIONS_GEN_DEFAULTS.seed, kind: 'int' },
];

/** DATA_GPA in the selftest: 4 GiB. */
const DATA_GPA = 1n << 32n;
const DATA_HVA = 0x7f0000000000n;
const GMEM_FD = 1;
const PAGE = BigInt(PAGE_SIZE);

export function generateConversions(options: Partial<ConversionsGenOptions> = {}): GeneratedTrace<TraceRow[]> {
  const o = { ...CONVERSIONS_GEN_DEFAULTS, ...options };
  checkOptions(o);
  const rng = xoroshiro128plus(o.seed);
  const rows: TraceRow[] = [];
  const perVcpu = BigInt(o.size);
  const total = perVcpu * BigInt(o.vcpus);
  const gran = BigInt(o.granularity);

  rows.push({ op: 'gmem_create', size: total, flags: 0n, fd: GMEM_FD, ret: 0 });
  rows.push({ op: 'backing', hva: DATA_HVA, size: total, flags: 'thp' });
  rows.push({ op: 'memslot', slot: 0, flags: 'gmem', gpa: DATA_GPA, size: total, hva: DATA_HVA, fd: GMEM_FD, offset: 0n, ret: 0 });
  rows.push({ op: 'attrs', gpa: DATA_GPA, size: total, attrs: 'private', flags: 0n, ret: 0 });
  for (let v = 0; v < o.vcpus; v++) {
    rows.push({ op: 'write', vcpu: v, gpa: DATA_GPA + BigInt(v) * perVcpu, size: perVcpu, flags: 'private', ret: 'ok' });
  }

  const slots = Number(perVcpu / gran);
  let conversions = 1;
  for (let r = 0; r < o.rounds; r++) {
    for (let v = 0; v < o.vcpus; v++) {
      const base = DATA_GPA + BigInt(v) * perVcpu;
      const gpa = base + BigInt(uniformInt(rng, 0, slots - 1)) * gran;
      const hva = DATA_HVA + (gpa - DATA_GPA);
      rows.push({ op: 'write', vcpu: v, gpa, size: gran, flags: 'private', ret: 'ok' });
      rows.push({ op: 'attrs', gpa, size: gran, attrs: 0n, flags: 0n, ret: 0 });
      if (o.punch) rows.push({ op: 'gmem_punch', fd: GMEM_FD, offset: gpa - DATA_GPA, size: gran, ret: 0 });
      rows.push({ op: 'read', vcpu: v, gpa, size: PAGE, flags: 'private', ret: 'memfault' });
      rows.push({ op: 'host_write', hva, size: gran });
      rows.push({ op: 'read', vcpu: v, gpa, size: gran, ret: 'ok' });
      if (gpa > base) rows.push({ op: 'read', vcpu: v, gpa: gpa - PAGE, size: PAGE, flags: 'private', ret: 'ok' });
      if (gpa + gran < base + perVcpu) {
        rows.push({ op: 'read', vcpu: v, gpa: gpa + gran, size: PAGE, flags: 'private', ret: 'ok' });
      }
      rows.push({ op: 'read', vcpu: v, gpa, size: PAGE, ret: 'ok' });
      rows.push({ op: 'attrs', gpa, size: gran, attrs: 'private', flags: 0n, ret: 0 });
      rows.push({ op: 'read', vcpu: v, gpa, size: PAGE, ret: 'memfault' });
      rows.push({ op: 'write', vcpu: v, gpa, size: gran, flags: 'private', ret: 'ok' });
      conversions += 2;
    }
  }
  rows.push({ op: 'expect', flags: 'conversions', ret: conversions });
  rows.push({ op: 'expect', flags: 'exits.memfault', ret: 2 * o.rounds * o.vcpus });

  return { meta: genMeta('conversions', o), rows };
}

function checkOptions(o: ConversionsGenOptions): void {
  const posInt = (name: string, v: number): void => {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`conversions: ${name} must be a positive integer (got ${v})`);
  };
  posInt('vcpus', o.vcpus);
  posInt('size', o.size);
  posInt('granularity', o.granularity);
  if (!Number.isSafeInteger(o.rounds) || o.rounds < 0) {
    throw new RangeError(`conversions: rounds must be a non-negative integer (got ${o.rounds})`);
  }
  if (!Number.isInteger(o.seed)) throw new RangeError(`conversions: seed must be an integer (got ${o.seed})`);
  if (o.granularity % PAGE_SIZE !== 0) {
    throw new RangeError(`conversions: granularity must be a multiple of 4096 (got ${o.granularity})`);
  }
  if (o.size % o.granularity !== 0) {
    throw new RangeError(`conversions: size must be a multiple of granularity ${o.granularity} (got ${o.size})`);
  }
}
