// Generator `memslots`: the phases of tools/testing/selftests/kvm/memslot_perf_test.c. Guest memory is
// split into `slots` equal memslots; "map" has the guest write every page (each first touch installs a
// 4K leaf: anonymous memory), "unmap" has the host drop chunks of the backing (MADV_DONTNEED, as the
// test's unmap phases do) and the guest touch them again, "move" moves the last slot to a free gpa
// range and back `moves` times with a guest read of it after each move, and "rw" makes `accesses`
// random reads and writes across all slots.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TraceRow } from '../row.js';
import { genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';

export const MEMSLOTS_OPTIONS = {
  seed: int(1, 'random seed'),
  slots: int(64, 'memslots', { min: 1, max: 32764 }),
  slotPages: int(64, '4 KiB pages per slot', { min: 1 }),
  moves: int(16, 'moves of the last slot in the move phase', { min: 0 }),
  accesses: int(1024, 'random accesses in the RW phase', { min: 0 }),
} satisfies OptionSpecs;
export type MemslotsGenOptions = OptionValues<typeof MEMSLOTS_OPTIONS>;

/** MEM_GPA in the test: 4 GiB, so the slots sit clear of the low memory used by the test's own code. */
const MEM_GPA = 1n << 32n;

export function generateMemslots(o: MemslotsGenOptions): GeneratedTrace {
  const rng = xoroshiro128plus(o.seed);
  const rows: TraceRow[] = [];
  const slotSize = BigInt(o.slotPages) * PAGE_BYTES;
  const total = slotSize * BigInt(o.slots);
  const totalPages = o.slots * o.slotPages;
  rows.push({ op: 'backing', hva: GUEST_RAM_HVA, size: total, flags: 'anon' });
  for (let s = 0; s < o.slots; s++) {
    rows.push({ op: 'memslot', slot: s, flags: '0', gpa: MEM_GPA + BigInt(s) * slotSize, size: slotSize, hva: GUEST_RAM_HVA + BigInt(s) * slotSize, ret: 0 });
  }
  // map: every page written once, in slot order.
  for (let s = 0; s < o.slots; s++) rows.push({ op: 'write', vcpu: 0, gpa: MEM_GPA + BigInt(s) * slotSize, size: slotSize, ret: 'ok' });
  rows.push({ op: 'expect', flags: 'leaves.4k', ret: totalPages });
  rows.push({ op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 });
  // unmap: the first half of every slot dropped by the host, then touched again by the guest.
  const half = BigInt(Math.floor(o.slotPages / 2)) * PAGE_BYTES;
  if (half > 0n) {
    for (let s = 0; s < o.slots; s++) rows.push({ op: 'unmap_hva', hva: GUEST_RAM_HVA + BigInt(s) * slotSize, size: half });
    rows.push({ op: 'expect', flags: 'mapped.4k', ret: (totalPages - o.slots * Math.floor(o.slotPages / 2)) * 4096 });
    for (let s = 0; s < o.slots; s++) rows.push({ op: 'write', vcpu: 0, gpa: MEM_GPA + BigInt(s) * slotSize, size: half, ret: 'ok' });
    rows.push({ op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 });
  }
  // move: the last slot goes above all others and comes back.
  const last = o.slots - 1;
  const home = MEM_GPA + BigInt(last) * slotSize;
  const away = MEM_GPA + total;
  for (let m = 0; m < o.moves; m++) {
    const gpa = m % 2 === 0 ? away : home;
    rows.push({ op: 'memslot', slot: last, flags: '0', gpa, size: slotSize, hva: GUEST_RAM_HVA + BigInt(last) * slotSize, ret: 0 });
    rows.push({ op: 'read', vcpu: 0, gpa, size: PAGE_BYTES, ret: 'ok' });
    // The range just vacated is no memslot: an access there is MMIO.
    rows.push({ op: 'read', vcpu: 0, gpa: m % 2 === 0 ? home : away, size: PAGE_BYTES, ret: 'mmio' });
  }
  const lastAt = o.moves % 2 === 1 ? away : home;
  // rw: random pages of random slots.
  for (let a = 0; a < o.accesses; a++) {
    const page = uniformInt(rng, 0, totalPages - 1);
    const s = Math.floor(page / o.slotPages);
    const base = s === last ? lastAt : MEM_GPA + BigInt(s) * slotSize;
    const gpa = base + BigInt(page % o.slotPages) * PAGE_BYTES;
    rows.push({ op: uniformInt(rng, 0, 1) === 0 ? 'read' : 'write', vcpu: 0, gpa, size: PAGE_BYTES, ret: 'ok' });
  }
  rows.push({ op: 'expect', flags: 'exits.mmio', ret: o.moves });
  return { meta: genMeta('memslots', o), rows };
}
