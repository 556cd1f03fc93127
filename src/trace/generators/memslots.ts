// Generator `memslots`: the phases of tools/testing/selftests/kvm/memslot_perf_test.c. Guest memory is
// split into `slots` equal memslots; "map" has the guest write every page (each first touch installs a
// 4K leaf: anonymous memory), "unmap" has the host drop chunks of the backing (MADV_DONTNEED, as the
// test's unmap phases do) and the guest touch them again, "move" moves the last slot to a free gpa
// range and back `moves` times with a guest read of it after each move, and "rw" makes `accesses`
// random reads and writes across all slots.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import type { TraceRow } from '../row.js';
import { genMeta, streamedRows, type GeneratedTrace, type GeneratorOption } from './common.js';

export interface MemslotsGenOptions {
  seed: number;
  /** Number of memslots. */
  slots: number;
  /** Pages (4 KiB) per slot. */
  slotPages: number;
  /** Moves of the last slot (each away and back counts one). */
  moves: number;
  /** Random accesses of the RW phase. */
  accesses: number;
}

export const MEMSLOTS_OPTIONS: readonly GeneratorOption[] = [
  { name: 'seed', description: 'random seed', default: 1, kind: 'int' },
  { name: 'slots', description: 'memslots', default: 64, kind: 'int', min: 1, max: 32764 },
  { name: 'slotPages', description: '4 KiB pages per slot', default: 64, kind: 'int', min: 1 },
  { name: 'moves', description: 'moves of the last slot in the move phase', default: 16, kind: 'int', min: 0 },
  { name: 'accesses', description: 'random accesses in the RW phase', default: 1024, kind: 'int', min: 0 },
];

/** MEM_GPA in the test: 4 GiB, so the slots sit clear of the low memory used by the test's own code. */
const MEM_GPA = 1n << 32n;
const MEM_HVA = 0x7f0000000000n;
const PAGE = 4096n;

export function generateMemslots(o: MemslotsGenOptions): GeneratedTrace {
  return { meta: genMeta('memslots', o), rows: streamedRows(() => rowsOf(o)) };
}

function* rowsOf(o: MemslotsGenOptions): Generator<TraceRow> {
  const rng = xoroshiro128plus(o.seed);
  const slotSize = BigInt(o.slotPages) * PAGE;
  const total = slotSize * BigInt(o.slots);
  const totalPages = o.slots * o.slotPages;
  yield { op: 'backing', hva: MEM_HVA, size: total, flags: 'anon' };
  for (let s = 0; s < o.slots; s++) {
    yield { op: 'memslot', slot: s, flags: '0', gpa: MEM_GPA + BigInt(s) * slotSize, size: slotSize, hva: MEM_HVA + BigInt(s) * slotSize, ret: 0 };
  }
  // map: every page written once, in slot order.
  for (let s = 0; s < o.slots; s++) yield { op: 'write', vcpu: 0, gpa: MEM_GPA + BigInt(s) * slotSize, size: slotSize, ret: 'ok' };
  yield { op: 'expect', flags: 'leaves.4k', ret: totalPages };
  yield { op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 };
  // unmap: the first half of every slot dropped by the host, then touched again by the guest.
  const half = BigInt(Math.floor(o.slotPages / 2)) * PAGE;
  if (half > 0n) {
    for (let s = 0; s < o.slots; s++) yield { op: 'unmap_hva', hva: MEM_HVA + BigInt(s) * slotSize, size: half };
    yield { op: 'expect', flags: 'mapped.4k', ret: (totalPages - o.slots * Math.floor(o.slotPages / 2)) * 4096 };
    for (let s = 0; s < o.slots; s++) yield { op: 'write', vcpu: 0, gpa: MEM_GPA + BigInt(s) * slotSize, size: half, ret: 'ok' };
    yield { op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 };
  }
  // move: the last slot goes above all others and comes back.
  const last = o.slots - 1;
  const home = MEM_GPA + BigInt(last) * slotSize;
  const away = MEM_GPA + total;
  for (let m = 0; m < o.moves; m++) {
    const gpa = m % 2 === 0 ? away : home;
    yield { op: 'memslot', slot: last, flags: '0', gpa, size: slotSize, hva: MEM_HVA + BigInt(last) * slotSize, ret: 0 };
    yield { op: 'read', vcpu: 0, gpa, size: PAGE, ret: 'ok' };
    // The range just vacated is no memslot: an access there is MMIO.
    yield { op: 'read', vcpu: 0, gpa: m % 2 === 0 ? home : away, size: PAGE, ret: 'mmio' };
  }
  const lastAt = o.moves % 2 === 1 ? away : home;
  // rw: random pages of random slots.
  for (let a = 0; a < o.accesses; a++) {
    const page = uniformInt(rng, 0, totalPages - 1);
    const s = Math.floor(page / o.slotPages);
    const base = s === last ? lastAt : MEM_GPA + BigInt(s) * slotSize;
    const gpa = base + BigInt(page % o.slotPages) * PAGE;
    yield { op: uniformInt(rng, 0, 1) === 0 ? 'read' : 'write', vcpu: 0, gpa, size: PAGE, ret: 'ok' };
  }
  yield { op: 'expect', flags: 'exits.mmio', ret: o.moves };
}
