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
import type { TraceChunk } from '../schema.js';
import { bool, checkedOptions, defaultsOf, genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import type { RowWriter } from './writer.js';

export type { GeneratedTrace } from './common.js';

/** What `s2bench gen conversions` offers. */
export const CONVERSIONS_OPTIONS = {
  size: int(64 << 20, 'bytes owned by each vCPU (a multiple of granularity)', { min: PAGE_SIZE }),
  vcpus: int(4, 'vCPUs, each converting in its own region', { min: 1, max: 4096 }),
  granularity: int(PAGE_SIZE, 'bytes converted at a time (a multiple of 4096)', { min: PAGE_SIZE }),
  rounds: int(1024, 'conversion round trips per vCPU', { min: 0 }),
  punch: bool(false, "punch the range out of the guest_memfd when it becomes shared (the selftest's fallocate mode)"),
  seed: int(1, 'random seed for the converted ranges'),
} satisfies OptionSpecs;
export type ConversionsGenOptions = OptionValues<typeof CONVERSIONS_OPTIONS>;
export const CONVERSIONS_GEN_DEFAULTS: ConversionsGenOptions = defaultsOf(CONVERSIONS_OPTIONS);

/** DATA_GPA in the selftest: 4 GiB. */
const DATA_GPA = 1n << 32n;
const GMEM_FD = 1;

export function generateConversions(options: Partial<ConversionsGenOptions> = {}): GeneratedTrace {
  const o = checkedOptions('conversions', CONVERSIONS_OPTIONS, options);
  checkGranularity(o);
  return writtenTrace(genMeta('conversions', o), 'gen conversions', (w) => write(o, w));
}

/** The rows, a chunk at a time: memory stays flat however many rounds (docs/generators.md). */
function* write(o: ConversionsGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const perVcpu = BigInt(o.size);
  const total = perVcpu * BigInt(o.vcpus);
  const gran = BigInt(o.granularity);

  w.row({ op: 'gmem_create', size: total, flags: 0n, fd: GMEM_FD, ret: 0 });
  w.row({ op: 'backing', hva: GUEST_RAM_HVA, size: total, flags: 'thp' });
  w.row({ op: 'memslot', slot: 0, flags: 'gmem', gpa: DATA_GPA, size: total, hva: GUEST_RAM_HVA, fd: GMEM_FD, offset: 0n, ret: 0 });
  w.row({ op: 'attrs', gpa: DATA_GPA, size: total, attrs: 'private', flags: 0n, ret: 0 });
  for (let v = 0; v < o.vcpus; v++) {
    w.row({ op: 'write', vcpu: v, gpa: DATA_GPA + BigInt(v) * perVcpu, size: perVcpu, flags: 'private', ret: 'ok' });
  }

  const slots = Number(perVcpu / gran);
  let conversions = 1;
  for (let r = 0; r < o.rounds; r++) {
    for (let v = 0; v < o.vcpus; v++) {
      const base = DATA_GPA + BigInt(v) * perVcpu;
      const gpa = base + BigInt(uniformInt(rng, 0, slots - 1)) * gran;
      const hva = GUEST_RAM_HVA + (gpa - DATA_GPA);
      w.row({ op: 'write', vcpu: v, gpa, size: gran, flags: 'private', ret: 'ok' });
      w.row({ op: 'attrs', gpa, size: gran, attrs: 0n, flags: 0n, ret: 0 });
      if (o.punch) w.row({ op: 'gmem_punch', fd: GMEM_FD, offset: gpa - DATA_GPA, size: gran, ret: 0 });
      w.row({ op: 'read', vcpu: v, gpa, size: PAGE_BYTES, flags: 'private', ret: 'memfault' });
      w.row({ op: 'host_write', hva, size: gran });
      w.row({ op: 'read', vcpu: v, gpa, size: gran, ret: 'ok' });
      if (gpa > base) w.row({ op: 'read', vcpu: v, gpa: gpa - PAGE_BYTES, size: PAGE_BYTES, flags: 'private', ret: 'ok' });
      if (gpa + gran < base + perVcpu) {
        w.row({ op: 'read', vcpu: v, gpa: gpa + gran, size: PAGE_BYTES, flags: 'private', ret: 'ok' });
      }
      w.row({ op: 'read', vcpu: v, gpa, size: PAGE_BYTES, ret: 'ok' });
      w.row({ op: 'attrs', gpa, size: gran, attrs: 'private', flags: 0n, ret: 0 });
      w.row({ op: 'read', vcpu: v, gpa, size: PAGE_BYTES, ret: 'memfault' });
      w.row({ op: 'write', vcpu: v, gpa, size: gran, flags: 'private', ret: 'ok' });
      conversions += 2;
      if (w.full) yield* w.drain();
    }
  }
  w.row({ op: 'expect', flags: 'conversions', ret: conversions });
  w.row({ op: 'expect', flags: 'exits.memfault', ret: 2 * o.rounds * o.vcpus });
  yield* w.finish();
}

/** What the specs cannot say: whole pages, and a region made of whole conversion ranges. */
function checkGranularity(o: ConversionsGenOptions): void {
  if (o.granularity % PAGE_SIZE !== 0) {
    throw new RangeError(`conversions: granularity must be a multiple of 4096 (got ${o.granularity})`);
  }
  if (o.size % o.granularity !== 0) {
    throw new RangeError(`conversions: size must be a multiple of granularity ${o.granularity} (got ${o.size})`);
  }
}
