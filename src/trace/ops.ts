// The op table: everything the project knows about each trace op, in one place (docs/trace-format.md).
// The validator reads `fields`, the engine calls `replay`, sharded replay reads `shard`, the cell codec
// reads `flags` and `ret`, and the docs generator prints `doc`. Adding an op is one entry here plus the
// model it calls; an entry without a `replay` does not compile.

import {
  errnoName,
  KVM_DIRTY_LOG_INITIALLY_SET,
  KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE,
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from '../core/abi.js';
import {
  BACKING_ANON,
  BACKING_HUGETLB_1G,
  BACKING_HUGETLB_2M,
  BACKING_SHMEM,
  BACKING_THP,
  UFFD_PAGE,
} from '../core/hostmm.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE } from '../core/gmem.js';
import { ACCESS_EXEC, ACCESS_NISV, ACCESS_PRIVATE, ACCESS_READ, ACCESS_S1PTW, ACCESS_WRITE, OUTCOME_NAMES } from '../core/outcome.js';
import type { Vm } from '../core/vm.js';
import { fd, gfn, has, offset, u64Field } from './columns.js';
import { F_ATTRS, F_FLAGS, F_GPA, F_HVA, F_RET, F_SIZE, type FieldName } from './fields.js';
import type { TraceChunk } from './schema.js';

/**
 * How sharded replay (src/replay/shard.ts) treats a row:
 * - `granule`: goes to the shard that owns its 1 GiB granule of guest-physical memory;
 * - `barrier`: every shard replays it, in trace order;
 * - `shard0`: state beside the stage-2 (vdpa, pKVM): shard 0 replays it alone;
 * - `check`: an `expect` row, evaluated on the merged counters;
 * - `whole`: state shared across granules that a shard cannot see: the trace is replayed whole.
 */
export type ShardRule = 'granule' | 'barrier' | 'shard0' | 'check' | 'whole';

/**
 * What the `ret` column holds and how it is written:
 * - `outcome`: an access outcome name (ok, mmio, memfault, ...; core/outcome.ts);
 * - `errno`: an ioctl's result, `-EINVAL` style for errors, a number otherwise;
 * - `value`: the expected value of an `expect` row.
 */
export type RetStyle = 'outcome' | 'errno' | 'value';

/** Symbolic names of the `flags` column's bits for an op; `value`: one name per value (not bits). */
export interface FlagVocabulary {
  names: ReadonlyArray<readonly [string, number]>;
  value?: boolean;
}

interface OpSpecBase {
  /** The `op` column's code: the format. Append only; never renumber. */
  readonly code: number;
  /** Fields the op cannot do without (`validate` reports a row without them). */
  readonly fields: readonly FieldName[];
  readonly shard: ShardRule;
  readonly ret: RetStyle;
  readonly flags?: FlagVocabulary;
  /** One line for docs/trace-format.md: what the row is and the kernel interface it stands for. */
  readonly doc: string;
}

/** A guest access: the engine hands the whole row to vm.accessRange(), which accounts it per leaf. */
export interface AccessOpSpec extends OpSpecBase {
  /** ACCESS_READ, ACCESS_WRITE or ACCESS_EXEC (core/outcome.ts). */
  readonly access: number;
  readonly replay?: never;
}

/** Every other op: replayed by its own function. */
export interface RowOpSpec extends OpSpecBase {
  readonly access?: never;
  /** Replays row i through the model and returns the kernel's answer (NO_RESULT: nothing to compare). */
  readonly replay: (vm: Vm, chunk: TraceChunk, i: number) => number;
}

export type OpSpec = AccessOpSpec | RowOpSpec;

const ACCESS_FLAGS: FlagVocabulary = {
  names: [
    ['private', ACCESS_PRIVATE],
    ['nisv', ACCESS_NISV],
    ['s1ptw', ACCESS_S1PTW],
  ],
};
const NO_NAMES: FlagVocabulary = { names: [] };

/**
 * `dirty_clear` flags: a run of the passed bitmap's set bits, and the call that clears only those runs.
 * Why rows and not a side table: the runs stream in trace order just before the call they belong to,
 * read the same in CSV and .s2t, cost one row per run (what the kernel clears, not the range), and
 * the call's own row stays the one place its ret is compared; the model holds the runs until that row.
 */
export const DIRTY_CLEAR_BITS = 1;
export const DIRTY_CLEAR_MASKED = 2;

/** The ret of an op whose model answers nothing comparable: a recorded ret is not checked. */
export const NO_RESULT = Number.NaN;

/** Hyp share rows: gpa = pfn << 12; a recorded failure is injected as the hypercall's answer. */
function injected(chunk: TraceChunk, i: number): number {
  const recorded = has(chunk, i, F_RET) ? chunk.ret[i]! : 0;
  return recorded < 0 ? recorded : 0;
}

export const OP_TABLE = {
  memslot: {
    code: 0,
    fields: ['slot', 'gpa', 'size', 'hva'],
    shard: 'barrier',
    ret: 'errno',
    flags: { names: [['log', KVM_MEM_LOG_DIRTY_PAGES], ['ro', KVM_MEM_READONLY], ['gmem', KVM_MEM_GUEST_MEMFD]] },
    doc: 'KVM_SET_USER_MEMORY_REGION2; `slot` is as_id<<16 | id; size 0 deletes the slot',
    // kvm_userspace_memory_region2.flags is a u32: higher bits cannot reach the kernel.
    replay: (vm, c, i) =>
      vm.setUserMemoryRegion2(c.slot[i]!, c.flagsLo[i]! | 0, u64Field(c, F_GPA, i), u64Field(c, F_SIZE, i), u64Field(c, F_HVA, i), fd(c, i), offset(c, i)),
  },
  gmem_create: {
    code: 1,
    fields: ['size', 'fd'],
    shard: 'barrier',
    ret: 'errno',
    flags: { names: [['mmap', 1], ['init_shared', 2]] },
    doc: 'KVM_CREATE_GUEST_MEMFD; `fd` is the id the trace gives the new file',
    replay: (vm, c, i) => vm.createGuestMemfd(fd(c, i), u64Field(c, F_SIZE, i), u64Field(c, F_FLAGS, i)),
  },
  gmem_punch: {
    code: 2,
    fields: ['fd', 'offset', 'size'],
    shard: 'whole',
    ret: 'errno',
    doc: 'fallocate(PUNCH_HOLE | KEEP_SIZE) on a guest_memfd: frees the pages, zaps their mappings',
    replay: (vm, c, i) => vm.gmemFallocate(fd(c, i), true, offset(c, i), u64Field(c, F_SIZE, i)),
  },
  gmem_alloc: {
    code: 3,
    fields: ['fd', 'offset', 'size'],
    // Its mode may punch (PUNCH_HOLE|KEEP_SIZE), which zaps with one flush over every bound slot, as gmem_punch.
    shard: 'whole',
    ret: 'errno',
    flags: { names: [['keep_size', FALLOC_FL_KEEP_SIZE], ['punch_hole', FALLOC_FL_PUNCH_HOLE]] },
    doc: 'fallocate() allocating guest_memfd pages ahead of faults, with the mode in `flags` (`keep_size` allocates; empty is mode 0, which guest_memfd refuses)',
    replay: (vm, c, i) => vm.gmemFallocate(fd(c, i), false, offset(c, i), u64Field(c, F_SIZE, i), c.flagsLo[i]! | 0),
  },
  gmem_close: {
    code: 4,
    fields: ['fd'],
    shard: 'whole',
    ret: 'errno',
    doc: 'close() of a guest_memfd (bindings stay until their slots go)',
    replay: (vm, c, i) => vm.closeGuestMemfd(fd(c, i)),
  },
  attrs: {
    code: 5,
    fields: ['gpa', 'size', 'attrs'],
    shard: 'whole',
    ret: 'errno',
    doc: 'KVM_SET_MEMORY_ATTRIBUTES: `attrs` `private` or 0; a change is a private/shared conversion',
    replay: (vm, c, i) => vm.setMemoryAttributes(u64Field(c, F_GPA, i), u64Field(c, F_SIZE, i), u64Field(c, F_ATTRS, i), u64Field(c, F_FLAGS, i)),
  },
  dirty_get: {
    code: 6,
    fields: ['slot'],
    shard: 'barrier',
    ret: 'errno',
    doc: 'KVM_GET_DIRTY_LOG of `slot` (harvests and write-protects again; under manual protect, `enable_cap`, only reports) (ret: the number of pages reported dirty)',
    replay: (vm, c, i) => vm.getDirtyLog(c.slot[i]!),
  },
  dirty_clear: {
    code: 7,
    fields: ['slot', 'offset', 'size'],
    shard: 'barrier',
    ret: 'errno',
    flags: { names: [['bits', DIRTY_CLEAR_BITS], ['masked', DIRTY_CLEAR_MASKED]] },
    doc:
      'KVM_CLEAR_DIRTY_LOG of `slot`, `offset` and `size` in pages. With `masked` it clears only the pages of the `bits` rows just before it ' +
      '(the set bits of the VMM\'s bitmap, one row per run: `offset` the run\'s first slot page, `size` its pages, no `ret`); without, the whole range',
    replay: (vm, c, i) => {
      const flags = c.flagsLo[i]!;
      if ((flags & DIRTY_CLEAR_BITS) !== 0) {
        vm.clearDirtyBits(c.slot[i]!, Number(offset(c, i)), Number(u64Field(c, F_SIZE, i)));
        return NO_RESULT;
      }
      return vm.clearDirtyLog(c.slot[i]!, offset(c, i), u64Field(c, F_SIZE, i), (flags & DIRTY_CLEAR_MASKED) !== 0);
    },
  },
  backing: {
    code: 8,
    fields: ['hva', 'size', 'flags'],
    shard: 'barrier',
    ret: 'errno',
    flags: { names: [['anon', BACKING_ANON], ['thp', BACKING_THP], ['hugetlb2m', BACKING_HUGETLB_2M], ['hugetlb1g', BACKING_HUGETLB_1G], ['shmem', BACKING_SHMEM]] },
    doc: 'the host memory behind an hva range: `anon`, `thp`, `hugetlb2m`, `hugetlb1g` or `shmem` (ret: always 0)',
    replay: (vm, c, i) => {
      vm.setBacking(u64Field(c, F_HVA, i), u64Field(c, F_SIZE, i), c.flagsLo[i]!);
      return 0;
    },
  },
  unmap_hva: {
    code: 9,
    fields: ['hva', 'size'],
    shard: 'barrier',
    ret: 'errno',
    doc: 'MADV_DONTNEED / munmap / hole punch of the backing: an mmu notifier invalidation; the pages are missing again (ret: always 0)',
    replay: (vm, c, i) => {
      vm.unmapHva(u64Field(c, F_HVA, i), u64Field(c, F_SIZE, i));
      return 0;
    },
  },
  uffd: {
    code: 10,
    fields: ['hva', 'size'],
    shard: 'whole',
    ret: 'errno',
    flags: { names: [['page', UFFD_PAGE]] },
    doc: 'register an hva range for userfaultfd missing faults (only never-touched or discarded pages are missing); the handler fills the whole range on its first fault, or one page per fault with `page` (ret: 0, or -EINVAL for an unaligned, empty, wrapping or beyond-user-space range)',
    replay: (vm, c, i) => vm.registerUffd(u64Field(c, F_HVA, i), u64Field(c, F_SIZE, i), c.flagsLo[i]!),
  },
  host_read: {
    code: 11,
    fields: ['hva', 'size'],
    shard: 'whole',
    ret: 'errno',
    flags: NO_NAMES,
    doc: 'the VMM reading guest memory through its own mapping (may take a userfaultfd fault; a missing anonymous page becomes the zero page; not dirty-logged)',
    replay: (vm, c, i) => vm.hostAccess(u64Field(c, F_HVA, i), u64Field(c, F_SIZE, i), false),
  },
  host_write: {
    code: 12,
    fields: ['hva', 'size'],
    shard: 'whole',
    ret: 'errno',
    flags: NO_NAMES,
    doc: 'the VMM writing guest memory through its own mapping (may take a userfaultfd fault; populates the pages, copying a zero page with an mmu notifier invalidation; not dirty-logged)',
    replay: (vm, c, i) => vm.hostAccess(u64Field(c, F_HVA, i), u64Field(c, F_SIZE, i), true),
  },
  read: {
    code: 13,
    fields: ['gpa'],
    access: ACCESS_READ,
    shard: 'granule',
    ret: 'outcome',
    flags: ACCESS_FLAGS,
    doc: 'guest load from every 4K page of [gpa, gpa + size)',
  },
  write: {
    code: 14,
    fields: ['gpa'],
    access: ACCESS_WRITE,
    shard: 'granule',
    ret: 'outcome',
    flags: ACCESS_FLAGS,
    doc: 'guest store to every 4K page of [gpa, gpa + size)',
  },
  exec: {
    code: 15,
    fields: ['gpa'],
    access: ACCESS_EXEC,
    shard: 'granule',
    ret: 'outcome',
    flags: ACCESS_FLAGS,
    doc: 'guest instruction fetch from every 4K page of [gpa, gpa + size)',
  },
  iotlb_update: {
    code: 16,
    fields: ['slot', 'gpa', 'size', 'hva', 'flags'],
    shard: 'shard0',
    ret: 'errno',
    flags: { names: [['rw', VHOST_ACCESS_RW], ['ro', VHOST_ACCESS_RO], ['wo', VHOST_ACCESS_WO]], value: true },
    doc: 'vhost-vdpa VHOST_IOTLB_UPDATE: `slot` is the asid, `gpa` the iova, `flags` the perm',
    replay: (vm, c, i) => vm.iotlb.update(c.slot[i]!, u64Field(c, F_GPA, i), u64Field(c, F_SIZE, i), u64Field(c, F_HVA, i), c.flagsLo[i]!),
  },
  iotlb_invalidate: {
    code: 17,
    fields: ['slot', 'gpa', 'size'],
    shard: 'shard0',
    ret: 'errno',
    doc: 'vhost-vdpa VHOST_IOTLB_INVALIDATE of [iova, iova + size) in asid `slot`',
    replay: (vm, c, i) => vm.iotlb.invalidate(c.slot[i]!, u64Field(c, F_GPA, i), u64Field(c, F_SIZE, i)),
  },
  iotlb_batch_begin: {
    code: 18,
    fields: [],
    shard: 'shard0',
    ret: 'errno',
    doc: 'vhost-vdpa VHOST_IOTLB_BATCH_BEGIN (asid `slot`, 0 when empty)',
    replay: (vm, c, i) => vm.iotlb.batchBegin(c.slot[i]!),
  },
  iotlb_batch_end: {
    code: 19,
    fields: [],
    shard: 'shard0',
    ret: 'errno',
    doc: 'vhost-vdpa VHOST_IOTLB_BATCH_END (asid `slot`): one device update for the whole batch',
    replay: (vm, c, i) => vm.iotlb.batchEnd(c.slot[i]!),
  },
  vdpa_close: {
    code: 20,
    fields: [],
    shard: 'shard0',
    ret: 'errno',
    doc: 'the VMM closes the vhost-vdpa device (vhost_vdpa_release(); policy `vdpa-release`)',
    replay: (vm) => vm.iotlb.close(),
  },
  hyp_share: {
    code: 21,
    fields: ['gpa'],
    shard: 'shard0',
    ret: 'errno',
    doc: 'pKVM kvm_share_hyp() of one page, `gpa` = pfn << 12 (a recorded failure is injected as the hypercall\'s answer)',
    replay: (vm, c, i) => vm.hypshare.share(gfn(c, i), injected(c, i)),
  },
  hyp_unshare: {
    code: 22,
    fields: ['gpa'],
    shard: 'shard0',
    ret: 'errno',
    doc: 'pKVM kvm_unshare_hyp() of one page, `gpa` = pfn << 12 (a recorded failure is injected as the hypercall\'s answer)',
    replay: (vm, c, i) => vm.hypshare.unshare(gfn(c, i), injected(c, i)),
  },
  enable_cap: {
    code: 24,
    fields: ['slot'],
    // Initially-set bitmaps start full in every shard's copy, so shard counts would not add up.
    shard: 'whole',
    ret: 'errno',
    flags: { names: [['protect', Number(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE)], ['init_set', Number(KVM_DIRTY_LOG_INITIALLY_SET)]] },
    doc:
      'KVM_ENABLE_CAP on the VM: `slot` the capability (168 KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, the one modeled; ' +
      'another\'s ret is not checked), `flags` args[0] (`protect`, `init_set`), `attrs` the struct\'s own flags',
    replay: (vm, c, i) => vm.enableCap(c.slot[i]!, u64Field(c, F_ATTRS, i), u64Field(c, F_FLAGS, i)) ?? NO_RESULT,
  },
  expect: {
    code: 23,
    fields: ['flags', 'ret'],
    shard: 'check',
    ret: 'value',
    doc: 'an assertion: metric `flags` has value `ret` at this point of the replay',
    // The engine evaluates expect rows itself (they compare counters, not an answer).
    replay: () => NO_RESULT,
  },
} as const satisfies Record<string, OpSpec>;

export type OpName = keyof typeof OP_TABLE;
/** Op codes by name, as literal types: a switch over them can be checked for exhaustiveness. */
export type OpCodes = { readonly [K in OpName]: (typeof OP_TABLE)[K]['code'] };

/** Specs by op code (the `op` column indexes this). */
export const OP_SPECS: readonly OpSpec[] = specsByCode();

function specsByCode(): OpSpec[] {
  const specs: OpSpec[] = [];
  for (const spec of Object.values(OP_TABLE) as OpSpec[]) specs[spec.code] = spec;
  for (let code = 0; code < specs.length; code++) {
    // The format needs dense codes: a gap or a duplicate is a mistake in the table above.
    if (specs[code] === undefined) throw new Error(`op table: no op has code ${code}`);
  }
  if (specs.length !== Object.keys(OP_TABLE).length) throw new Error('op table: two ops share a code');
  return specs;
}

/** A `ret` value of op `op` as a trace writes it: an outcome name, `-EINVAL` style, or the number. */
export function retText(op: number, value: number): string {
  const style = OP_SPECS[op]?.ret ?? 'errno';
  if (style === 'outcome' && value >= 0) return OUTCOME_NAMES[value] ?? String(value);
  if (style !== 'value' && value < 0) {
    const name = errnoName(-value);
    if (name !== undefined) return `-${name}`;
  }
  return String(value);
}
