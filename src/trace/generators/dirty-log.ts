// Generator `dirty-log`: tools/testing/selftests/kvm/dirty_log_perf_test.c. Each vCPU owns
// `vcpuPages` pages of one memslot; the vCPUs populate their memory, logging is enabled on the slot,
// then each of `iterations` rounds has every vCPU touch all its pages (a page is written with
// probability writePercent, else read, as memstress's guest does) followed by KVM_GET_DIRTY_LOG, and
// with `clear` a KVM_CLEAR_DIRTY_LOG of the whole slot. Every dirty_get carries the number of pages
// written in its round, which is what the kernel reports (without manual protect the get also clears).

import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { OP, type TraceChunk } from '../schema.js';
import { bool, choice, genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import { OK, type RowWriter } from './writer.js';

export const DIRTY_LOG_OPTIONS = {
  seed: int(1, 'random seed'),
  vcpus: int(2, 'vCPUs', { min: 1, max: 4096 }),
  vcpuPages: int(512, '4 KiB pages per vCPU', { min: 1 }),
  iterations: int(3, 'rounds of writes + get (+ clear)', { min: 0 }),
  writePercent: int(100, 'percent of pages written per round', { min: 0, max: 100 }),
  clear: bool(true, 'KVM_CLEAR_DIRTY_LOG after each get'),
  backing: choice(['anon', 'thp', 'hugetlb2m'], 'anon', 'host memory behind guest RAM'),
} satisfies OptionSpecs;
export type DirtyLogGenOptions = OptionValues<typeof DIRTY_LOG_OPTIONS>;

const MEM_GPA = 1n << 32n;
const MEM_GFN = 1 << 20;
const SLOT = 1;

export function generateDirtyLog(o: DirtyLogGenOptions): GeneratedTrace {
  return writtenTrace(genMeta('dirty-log', o), 'gen dirty-log', (w) => write(o, w));
}

function* write(o: DirtyLogGenOptions, w: RowWriter): Generator<TraceChunk> {
  const rng = xoroshiro128plus(o.seed);
  const pages = o.vcpus * o.vcpuPages;
  const size = BigInt(pages) * PAGE_BYTES;
  const base = (v: number): number => MEM_GFN + v * o.vcpuPages;
  w.row({ op: 'backing', hva: GUEST_RAM_HVA, size, flags: o.backing });
  w.row({ op: 'memslot', slot: SLOT, flags: '0', gpa: MEM_GPA, size, hva: GUEST_RAM_HVA, ret: 0 });
  // Populate: the test's first pass, before logging.
  for (let v = 0; v < o.vcpus; v++) {
    w.access(OP.write, v, base(v), o.vcpuPages, OK);
    if (w.full) yield* w.drain();
  }
  w.row({ op: 'memslot', slot: SLOT, flags: 'log', gpa: MEM_GPA, size, hva: GUEST_RAM_HVA, ret: 0 });
  for (let it = 0; it < o.iterations; it++) {
    let written = 0;
    for (let v = 0; v < o.vcpus; v++) {
      // Runs of pages of one kind become one row: page p decides whether the run before it ends.
      let runStart = 0;
      let runWrite = false;
      yield* w.each(o.vcpuPages + 1, (p) => {
        const write: boolean = p < o.vcpuPages ? o.writePercent === 100 || uniformInt(rng, 0, 99) < o.writePercent : !runWrite;
        if (p < o.vcpuPages && write) written++;
        if (p === 0) {
          runWrite = write;
        } else if (write !== runWrite || p === o.vcpuPages) {
          w.access(runWrite ? OP.write : OP.read, v, base(v) + runStart, p - runStart, OK);
          runStart = p;
          runWrite = write;
        }
      });
    }
    w.row({ op: 'dirty_get', slot: SLOT, ret: written });
    if (o.clear) w.row({ op: 'dirty_clear', slot: SLOT, offset: 0n, size: BigInt(pages), ret: 0 });
  }
  // While logging every mapping is 4K: no huge leaf survives a round that wrote every page.
  if (o.iterations > 0 && o.writePercent === 100) w.row({ op: 'expect', flags: 'mapped.2m', ret: 0 });
  yield* w.finish();
}
