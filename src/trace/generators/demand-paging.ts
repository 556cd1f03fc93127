// Generator `demand-paging`: tools/testing/selftests/kvm/demand_paging_test.c. Each vCPU owns
// `vcpuPages` pages of one memslot and touches every one of them once (a write, memstress's default),
// the vCPUs interleaved `chunkPages` pages at a time as they would run concurrently. With `uffd` each
// vCPU's range is registered for userfaultfd missing faults and the handler resolves one page per fault
// (UFFDIO_COPY of a page, as the test does), so every page takes one userfaultfd fault.

import type { TraceRow } from '../row.js';
import { genMeta, streamedRows, type GeneratedTrace, type GeneratorOption } from './common.js';

export interface DemandPagingGenOptions {
  vcpus: number;
  vcpuPages: number;
  chunkPages: number;
  uffd: boolean;
  /** Only to keep every generator's signature alike: the test's access order is fixed. */
  seed: number;
}

export const DEMAND_PAGING_OPTIONS: readonly GeneratorOption[] = [
  { name: 'seed', description: 'random seed (the access order is fixed; kept for uniformity)', default: 1, kind: 'int' },
  { name: 'vcpus', description: 'vCPUs', default: 4, kind: 'int', min: 1, max: 4096 },
  { name: 'vcpuPages', description: '4 KiB pages per vCPU', default: 1024, kind: 'int', min: 1 },
  { name: 'chunkPages', description: 'pages a vCPU touches before the next vCPU runs', default: 16, kind: 'int', min: 1 },
  { name: 'uffd', description: 'register each vCPU range with userfaultfd (one page per fault)', default: true, kind: 'bool' },
];

const MEM_GPA = 1n << 32n;
const MEM_HVA = 0x7f0000000000n;
const PAGE = 4096n;

export function generateDemandPaging(o: DemandPagingGenOptions): GeneratedTrace {
  return { meta: genMeta('demand-paging', o), rows: streamedRows(() => rowsOf(o)) };
}

function* rowsOf(o: DemandPagingGenOptions): Generator<TraceRow> {
  const pages = o.vcpus * o.vcpuPages;
  const vcpuSize = BigInt(o.vcpuPages) * PAGE;
  yield { op: 'backing', hva: MEM_HVA, size: BigInt(pages) * PAGE, flags: 'anon' };
  yield { op: 'memslot', slot: 1, flags: '0', gpa: MEM_GPA, size: BigInt(pages) * PAGE, hva: MEM_HVA, ret: 0 };
  if (o.uffd) {
    for (let v = 0; v < o.vcpus; v++) yield { op: 'uffd', hva: MEM_HVA + BigInt(v) * vcpuSize, size: vcpuSize, flags: 'page' };
  }
  for (let start = 0; start < o.vcpuPages; start += o.chunkPages) {
    const n = Math.min(o.chunkPages, o.vcpuPages - start);
    for (let v = 0; v < o.vcpus; v++) {
      yield { op: 'write', vcpu: v, gpa: MEM_GPA + BigInt(v) * vcpuSize + BigInt(start) * PAGE, size: BigInt(n) * PAGE, ret: 'ok' };
    }
  }
  yield { op: 'expect', flags: 'leaves.4k', ret: pages };
  yield { op: 'expect', flags: 'uffd.faults', ret: o.uffd ? pages : 0 };
}
