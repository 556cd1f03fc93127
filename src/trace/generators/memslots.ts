// Generator `memslots`: the phases of tools/testing/selftests/kvm/memslot_perf_test.c. Guest memory is
// split into `slots` equal memslots; "map" has the guest write every page (each first touch installs a
// 4K leaf: anonymous memory), "unmap" has the host drop chunks of the backing (MADV_DONTNEED, as the
// test's unmap phases do) and the guest touch them again, "move" moves the last slot to a free gpa
// range and back `moves` times with a guest read of it after each move, and "rw" makes `accesses`
// random reads and writes across all slots.

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { OP, type TraceChunk } from '../schema.js';
import { genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import { MMIO, OK, type RowWriter } from './writer.js';

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

const MEM_GFN = 1 << 20;

export function generateMemslots(o: MemslotsGenOptions): GeneratedTrace {
  return writtenTrace(genMeta('memslots', o), 'gen memslots', (w) => write(o, w));
}

function* write(o: MemslotsGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const slotSize = BigInt(o.slotPages) * PAGE_BYTES;
  const total = slotSize * BigInt(o.slots);
  const totalPages = o.slots * o.slotPages;
  const slotGfn = (s: number): number => MEM_GFN + s * o.slotPages;
  w.row({ op: 'backing', hva: GUEST_RAM_HVA, size: total, flags: 'anon' });
  for (let s = 0; s < o.slots; s++) {
    w.row({ op: 'memslot', slot: s, flags: '0', gpa: MEM_GPA + BigInt(s) * slotSize, size: slotSize, hva: GUEST_RAM_HVA + BigInt(s) * slotSize, ret: 0 });
    if (w.full) yield* w.drain();
  }
  // map: every page written once, in slot order.
  for (let s = 0; s < o.slots; s++) {
    w.access(OP.write, 0, slotGfn(s), o.slotPages, OK);
    if (w.full) yield* w.drain();
  }
  w.row({ op: 'expect', flags: 'leaves.4k', ret: totalPages });
  w.row({ op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 });
  // unmap: the first half of every slot dropped by the host, then touched again by the guest.
  const halfPages = Math.floor(o.slotPages / 2);
  if (halfPages > 0) {
    for (let s = 0; s < o.slots; s++) {
      w.row({ op: 'unmap_hva', hva: GUEST_RAM_HVA + BigInt(s) * slotSize, size: BigInt(halfPages) * PAGE_BYTES });
      if (w.full) yield* w.drain();
    }
    w.row({ op: 'expect', flags: 'mapped.4k', ret: (totalPages - o.slots * halfPages) * 4096 });
    for (let s = 0; s < o.slots; s++) {
      w.access(OP.write, 0, slotGfn(s), halfPages, OK);
      if (w.full) yield* w.drain();
    }
    w.row({ op: 'expect', flags: 'mapped.4k', ret: totalPages * 4096 });
  }
  // move: the last slot goes above all others and comes back.
  const last = o.slots - 1;
  const home = slotGfn(last);
  const away = slotGfn(o.slots);
  for (let m = 0; m < o.moves; m++) {
    const gfn = m % 2 === 0 ? away : home;
    w.row({ op: 'memslot', slot: last, flags: '0', gpa: BigInt(gfn) * PAGE_BYTES, size: slotSize, hva: GUEST_RAM_HVA + BigInt(last) * slotSize, ret: 0 });
    w.access(OP.read, 0, gfn, 1, OK);
    // The range just vacated is no memslot: an access there is MMIO.
    w.access(OP.read, 0, m % 2 === 0 ? home : away, 1, MMIO);
    if (w.full) yield* w.drain();
  }
  const lastAt = o.moves % 2 === 1 ? away : home;
  // rw: random pages of random slots.
  yield* w.each(o.accesses, () => {
    const page = uniformInt(rng, 0, totalPages - 1);
    const s = Math.floor(page / o.slotPages);
    const gfn = (s === last ? lastAt : slotGfn(s)) + (page % o.slotPages);
    w.access(uniformInt(rng, 0, 1) === 0 ? OP.read : OP.write, 0, gfn, 1, OK);
  });
  w.row({ op: 'expect', flags: 'exits.mmio', ret: o.moves });
  yield* w.finish();
}
