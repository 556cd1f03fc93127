// Generator `demand-paging`: tools/testing/selftests/kvm/demand_paging_test.c. Each vCPU owns
// `vcpuPages` pages of one memslot and touches every one of them once (a write, memstress's default),
// the vCPUs interleaved `chunkPages` pages at a time as they would run concurrently. With `uffd` each
// vCPU's range is registered for userfaultfd missing faults and the handler resolves one page per fault
// (UFFDIO_COPY of a page, as the test does), so every page takes one userfaultfd fault.

import { OP, type TraceChunk } from '../schema.js';
import { bool, genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, writtenTrace, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';
import { OK, type RowWriter } from './writer.js';

export const DEMAND_PAGING_OPTIONS = {
  seed: int(1, 'random seed (the access order is fixed; kept for uniformity)'),
  vcpus: int(4, 'vCPUs', { min: 1, max: 4096 }),
  vcpuPages: int(1024, '4 KiB pages per vCPU', { min: 1 }),
  chunkPages: int(16, 'pages a vCPU touches before the next vCPU runs', { min: 1 }),
  uffd: bool(true, 'register each vCPU range with userfaultfd (one page per fault)'),
} satisfies OptionSpecs;
export type DemandPagingGenOptions = OptionValues<typeof DEMAND_PAGING_OPTIONS>;

const MEM_GPA = 1n << 32n;
const MEM_GFN = 1 << 20;

export function generateDemandPaging(o: DemandPagingGenOptions): GeneratedTrace {
  return writtenTrace(genMeta('demand-paging', o), 'gen demand-paging', (w) => write(o, w));
}

function* write(o: DemandPagingGenOptions, w: RowWriter): Generator<TraceChunk> {
  const pages = o.vcpus * o.vcpuPages;
  const vcpuSize = BigInt(o.vcpuPages) * PAGE_BYTES;
  w.row({ op: 'backing', hva: GUEST_RAM_HVA, size: BigInt(pages) * PAGE_BYTES, flags: 'anon' });
  w.row({ op: 'memslot', slot: 1, flags: '0', gpa: MEM_GPA, size: BigInt(pages) * PAGE_BYTES, hva: GUEST_RAM_HVA, ret: 0 });
  if (o.uffd) {
    for (let v = 0; v < o.vcpus; v++) w.row({ op: 'uffd', hva: GUEST_RAM_HVA + BigInt(v) * vcpuSize, size: vcpuSize, flags: 'page' });
  }
  for (let start = 0; start < o.vcpuPages; start += o.chunkPages) {
    const n = Math.min(o.chunkPages, o.vcpuPages - start);
    for (let v = 0; v < o.vcpus; v++) {
      w.access(OP.write, v, MEM_GFN + v * o.vcpuPages + start, n, OK);
      if (w.full) yield* w.drain();
    }
  }
  w.row({ op: 'expect', flags: 'leaves.4k', ret: pages });
  w.row({ op: 'expect', flags: 'uffd.faults', ret: o.uffd ? pages : 0 });
  yield* w.finish();
}
