// Generator `page-fault-test`: one row of KVM's arm64 selftest page_fault_test.c as a trace for the
// arm64-s2 profile (tools/testing/selftests/kvm/arm64/page_fault_test.c, its `tests[]` table). Each
// row is one guest access under a combination of memslot flags, punched holes, userfaultfd and dirty
// logging; `expect` rows at the end carry the events the selftest asserts (uffd faults, MMIO exits,
// failed vCPU runs) and `dirty_get` rows its dirty-log checks.
//
// Layout as the selftest's: slot 0 holds code and data at gpa 0; the PT slot (the guest's stage-1
// page tables, 26 pages) sits right below the TEST_DATA slot (one page) at the top of the 40-bit IPA
// space; both are rounded up to the backing's page size. In the PT slot, pages 0..3 are the four
// levels of TEST_GVA's walk and page 3 holds its PTE.

import type { TraceRow } from '../row.js';
import { choice, genMeta, GUEST_RAM_HVA, int, PAGE_BYTES, type GeneratedTrace, type OptionSpecs, type OptionValues } from './common.js';

export type PftAccess = 'read64' | 'write64' | 'cas' | 'at' | 'dc_zva' | 'ld_preidx' | 'st_preidx' | 'exec';
export type PftBacking = 'anon' | 'thp' | 'hugetlb2m' | 'shmem';

export interface PftRow {
  /** Row number in the order of docs/page-fault-test.md (the selftest's tests[] order), from 1. */
  n: number;
  access: PftAccess;
  /** with_af: the guest clears TEST_GVA's access flag first and the walk's hardware AF update writes it back. */
  af: boolean;
  holeData: boolean;
  holePt: boolean;
  log: boolean;
  ro: boolean;
  /** Userfaultfd handlers on both regions (a data handler that must never run is still registered). */
  uffd: boolean;
  expect: { uffd: number; mmio: number; fail: number };
  /** The dirty-log checks: undefined where the row does not check. */
  dataDirty?: boolean;
  ptDirty?: boolean;
}

const E = (uffd: number, mmio: number, fail: number): PftRow['expect'] => ({ uffd, mmio, fail });
type Base = Omit<PftRow, 'n' | 'access' | 'af' | 'expect'>;
const NONE: Base = { holeData: false, holePt: false, log: false, ro: false, uffd: false };
const HOLE_DATA: Base = { ...NONE, holeData: true };
const UFFD: Base = { ...NONE, holeData: true, holePt: true, uffd: true };
const LOG: Base = { ...NONE, log: true };
const UFFD_LOG: Base = { ...UFFD, log: true };
const RO: Base = { ...NONE, ro: true };
const RO_LOG: Base = { ...NONE, ro: true, log: true };
const RO_UFFD: Base = { ...UFFD, ro: true };

function rows(): PftRow[] {
  const list: Array<Omit<PftRow, 'n'>> = [
    // TEST_ACCESS(..., with_af, CMD_NONE): hardware sets the access flag.
    ...(['read64', 'ld_preidx', 'cas', 'write64', 'st_preidx', 'dc_zva', 'exec'] as const).map((access) => ({ ...NONE, access, af: true, expect: E(0, 0, 0) })),
    // TEST_ACCESS(..., no_af, CMD_HOLE_DATA): a punched data page reads zero / refills on write.
    ...(['read64', 'cas', 'ld_preidx', 'write64', 'st_preidx', 'at', 'dc_zva'] as const).map((access) => ({ ...HOLE_DATA, access, af: false, expect: E(0, 0, 0) })),
    // TEST_UFFD: holes in data and PT under userfaultfd: the access and its S1PTW fault once each.
    { ...UFFD, access: 'read64', af: true, expect: E(2, 0, 0) },
    { ...UFFD, access: 'read64', af: false, expect: E(2, 0, 0) },
    { ...UFFD, access: 'cas', af: true, expect: E(2, 0, 0) },
    { ...UFFD, access: 'at', af: false, expect: E(1, 0, 0) },
    ...(['ld_preidx', 'write64', 'dc_zva', 'st_preidx', 'exec'] as const).map((access) => ({ ...UFFD, access, af: true, expect: E(2, 0, 0) })),
    // TEST_DIRTY_LOG: data written only by writes; PT written by the AF update (with_af).
    { ...LOG, access: 'read64', af: true, expect: E(0, 0, 0), dataDirty: false, ptDirty: true },
    { ...LOG, access: 'read64', af: false, expect: E(0, 0, 0), dataDirty: false, ptDirty: false },
    { ...LOG, access: 'ld_preidx', af: true, expect: E(0, 0, 0), dataDirty: false, ptDirty: true },
    { ...LOG, access: 'at', af: false, expect: E(0, 0, 0), dataDirty: false, ptDirty: false },
    { ...LOG, access: 'exec', af: true, expect: E(0, 0, 0), dataDirty: false, ptDirty: true },
    ...(['write64', 'cas', 'dc_zva', 'st_preidx'] as const).map((access) => ({ ...LOG, access, af: true, expect: E(0, 0, 0), dataDirty: true, ptDirty: true })),
    // TEST_UFFD_AND_DIRTY_LOG.
    { ...UFFD_LOG, access: 'read64', af: true, expect: E(2, 0, 0), dataDirty: false, ptDirty: true },
    { ...UFFD_LOG, access: 'read64', af: false, expect: E(2, 0, 0), dataDirty: false, ptDirty: false },
    { ...UFFD_LOG, access: 'ld_preidx', af: true, expect: E(2, 0, 0), dataDirty: false, ptDirty: true },
    { ...UFFD_LOG, access: 'at', af: true, expect: E(1, 0, 0), dataDirty: false, ptDirty: true },
    { ...UFFD_LOG, access: 'exec', af: true, expect: E(2, 0, 0), dataDirty: false, ptDirty: true },
    ...(['write64', 'cas', 'dc_zva', 'st_preidx'] as const).map((access) => ({ ...UFFD_LOG, access, af: true, expect: E(2, 0, 0), dataDirty: true, ptDirty: true })),
    // TEST_RO_MEMSLOT(_NO_SYNDROME): writes with a syndrome exit as MMIO, without one KVM_RUN fails.
    ...(['read64', 'ld_preidx', 'at', 'exec'] as const).map((access) => ({ ...RO, access, af: false, expect: E(0, 0, 0) })),
    { ...RO, access: 'write64', af: false, expect: E(0, 1, 0) },
    ...(['dc_zva', 'cas', 'st_preidx'] as const).map((access) => ({ ...RO, access, af: false, expect: E(0, 0, 1) })),
    // TEST_RO_MEMSLOT(_NO_SYNDROME)_AND_DIRTY_LOG: the same, and nothing in the dirty log.
    ...(['read64', 'ld_preidx', 'at', 'exec'] as const).map((access) => ({ ...RO_LOG, access, af: false, expect: E(0, 0, 0), dataDirty: false })),
    { ...RO_LOG, access: 'write64', af: false, expect: E(0, 1, 0), dataDirty: false },
    ...(['dc_zva', 'cas', 'st_preidx'] as const).map((access) => ({ ...RO_LOG, access, af: false, expect: E(0, 0, 1), dataDirty: false })),
    // TEST_RO_MEMSLOT(_NO_SYNDROME)_AND_UFFD: the union of both behaviours.
    { ...RO_UFFD, access: 'read64', af: false, expect: E(2, 0, 0) },
    { ...RO_UFFD, access: 'ld_preidx', af: false, expect: E(2, 0, 0) },
    { ...RO_UFFD, access: 'at', af: false, expect: E(1, 0, 0) },
    { ...RO_UFFD, access: 'exec', af: false, expect: E(2, 0, 0) },
    { ...RO_UFFD, access: 'write64', af: false, expect: E(2, 1, 0) },
    { ...RO_UFFD, access: 'cas', af: false, expect: E(2, 0, 1) },
    { ...RO_UFFD, access: 'dc_zva', af: false, expect: E(1, 0, 1) },
    { ...RO_UFFD, access: 'st_preidx', af: false, expect: E(1, 0, 1) },
  ];
  return list.map((r, i) => ({ ...r, n: i + 1 }));
}

/** The selftest's matrix, rows 1..65. */
export const PAGE_FAULT_TEST_ROWS: readonly PftRow[] = rows();

const IPA_TOP = 1n << 40n; // the default arm64 VM's 40-bit IPA space
const PT_PAGES = 26n;
const PT_HVA = 0x7f1000000000n;
const DATA_HVA = 0x7f2000000000n;
const WALK_LEVELS = 4n;
const PTE_PAGE = 3n;

function backingPage(backing: PftBacking): bigint {
  return backing === 'thp' || backing === 'hugetlb2m' ? 2n << 20n : PAGE_BYTES;
}

function roundUp(n: bigint, to: bigint): bigint {
  return ((n + to - 1n) / to) * to;
}

/** What the guest's access does to the test page, in order (page-fault-test.md). */
function dataOps(access: PftAccess): Array<{ op: 'read' | 'write' | 'exec'; nisv: boolean }> {
  switch (access) {
    case 'read64':
      return [{ op: 'read', nisv: false }];
    case 'write64':
      return [{ op: 'write', nisv: false }, { op: 'read', nisv: false }];
    case 'cas':
      return [{ op: 'read', nisv: false }, { op: 'write', nisv: true }, { op: 'read', nisv: false }];
    case 'at':
      return [];
    case 'dc_zva':
      return [{ op: 'write', nisv: true }, { op: 'read', nisv: false }];
    case 'ld_preidx':
      return [{ op: 'read', nisv: true }];
    case 'st_preidx':
      return [{ op: 'write', nisv: true }, { op: 'read', nisv: false }];
    case 'exec':
      return [{ op: 'exec', nisv: false }];
  }
}

export function generatePageFaultTest(row: PftRow, backing: PftBacking): TraceRow[] {
  const page = backingPage(backing);
  const dataSize = roundUp(PAGE_BYTES, page);
  const ptSize = roundUp(PT_PAGES * PAGE_BYTES, page);
  const dataGpa = IPA_TOP - dataSize;
  const ptGpa = dataGpa - ptSize;
  const flags = [row.log ? 'log' : '', row.ro ? 'ro' : ''].filter((f) => f !== '').join('|');
  const slotFlags = flags === '' ? {} : { flags };
  const out: TraceRow[] = [];

  out.push({ op: 'backing', hva: GUEST_RAM_HVA, size: 2n << 20n, flags: 'anon' });
  out.push({ op: 'backing', hva: PT_HVA, size: ptSize, flags: backing });
  out.push({ op: 'backing', hva: DATA_HVA, size: dataSize, flags: backing });
  out.push({ op: 'memslot', slot: 0, gpa: 0n, size: 2n << 20n, hva: GUEST_RAM_HVA, ret: 0 });
  out.push({ op: 'memslot', slot: 1, ...slotFlags, gpa: ptGpa, size: ptSize, hva: PT_HVA, ret: 0 });
  out.push({ op: 'memslot', slot: 2, ...slotFlags, gpa: dataGpa, size: dataSize, hva: DATA_HVA, ret: 0 });

  const walk = (): void => {
    for (let level = 0n; level < WALK_LEVELS; level++) out.push({ op: 'read', vcpu: 0, gpa: ptGpa + level * PAGE_BYTES, flags: 's1ptw', ret: 'ok' });
  };
  // The guest runs its code from slot 0 (its prepare functions), then with_af clears TEST_GVA's access
  // flag through TEST_PTE_GVA: a plain store into the PT page holding the PTE.
  out.push({ op: 'exec', vcpu: 0, gpa: 0n, ret: 'ok' });
  if (row.af) {
    walk();
    out.push({ op: 'write', vcpu: 0, gpa: ptGpa + PTE_PAGE * PAGE_BYTES, ret: 'ok' });
  }
  // GUEST_SYNC(mem_mark_cmd): the host punches the holes (which zaps their stage-2 mappings). The
  // regions were registered with userfaultfd at set-up, while every page was still populated: the
  // first missing-page fault can only come after the punch, which is where the registration stands.
  if (row.holeData) out.push({ op: 'unmap_hva', hva: DATA_HVA, size: dataSize });
  if (row.holePt) out.push({ op: 'unmap_hva', hva: PT_HVA, size: ptSize });
  if (row.uffd) {
    out.push({ op: 'uffd', hva: DATA_HVA, size: dataSize });
    out.push({ op: 'uffd', hva: PT_HVA, size: ptSize });
  }

  // The test access: the stage-1 walk (S1PTW reads of the four table levels), the hardware's
  // access-flag update (an S1PTW write of the PTE; IMPDEF for `at`, which the selftest never relies on),
  // then the access itself.
  walk();
  if (row.af && row.access !== 'at') out.push({ op: 'write', vcpu: 0, gpa: ptGpa + PTE_PAGE * PAGE_BYTES, flags: 's1ptw', ret: 'ok' });
  for (const d of dataOps(row.access)) {
    const isWrite = d.op === 'write';
    const ret = row.ro && isWrite ? (d.nisv ? 'enosys' : 'mmio') : 'ok';
    out.push({ op: d.op, vcpu: 0, gpa: dataGpa, ...(d.nisv ? { flags: 'nisv' } : {}), ret });
    if (ret === 'enosys') break; // KVM_RUN failed: the vCPU runs no further
    // The test's MMIO handler copies the written data into the test page's backing.
    if (ret === 'mmio') out.push({ op: 'host_write', hva: DATA_HVA, size: PAGE_BYTES });
  }

  // The dirty-log checks (the host reads the log even after a failed run: nothing may be in it).
  if (row.dataDirty !== undefined) out.push({ op: 'dirty_get', slot: 2, ret: row.dataDirty ? 1 : 0 });
  if (row.ptDirty !== undefined) out.push({ op: 'dirty_get', slot: 1, ret: row.ptDirty ? 1 : 0 });
  out.push({ op: 'expect', flags: 'uffd.faults', ret: row.expect.uffd });
  out.push({ op: 'expect', flags: 'exits.mmio', ret: row.expect.mmio });
  out.push({ op: 'expect', flags: 'runs.enosys', ret: row.expect.fail });
  return out;
}

export const PAGE_FAULT_TEST_OPTIONS = {
  row: int(1, 'row of the selftest matrix (1..65, the tests[] order)', { min: 1, max: 65 }),
  backing: choice(['anon', 'thp', 'hugetlb2m', 'shmem'], 'anon', "backing of the PT and data regions (the selftest's -s)"),
} satisfies OptionSpecs;
export type PageFaultTestGenOptions = OptionValues<typeof PAGE_FAULT_TEST_OPTIONS>;

export function generatePageFaultTestTrace(o: PageFaultTestGenOptions): GeneratedTrace {
  const row = PAGE_FAULT_TEST_ROWS[o.row - 1]!;
  return { meta: genMeta('page-fault-test', o, 'arm64-s2'), rows: generatePageFaultTest(row, o.backing) };
}
