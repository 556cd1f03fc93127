// Trace format v1: the ops, the columns, the symbolic flag vocabularies, and the columnar chunk that
// readers yield and the replay engine consumes (docs/trace-format.md).

import {
  ACCESS_NISV,
  ACCESS_PRIVATE,
  ACCESS_S1PTW,
} from '../core/outcome.js';
import {
  BACKING_ANON,
  BACKING_HUGETLB_1G,
  BACKING_HUGETLB_2M,
  BACKING_SHMEM,
  BACKING_THP,
  UFFD_PAGE,
} from '../core/hostmm.js';
import {
  KVM_MEM_GUEST_MEMFD,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_MEM_READONLY,
  VHOST_ACCESS_RO,
  VHOST_ACCESS_RW,
  VHOST_ACCESS_WO,
} from '../core/abi.js';

export const TRACE_MAGIC_LINE = '# s2bench trace v1';
export const TRACE_VERSION = 1;

/** The CSV header, in column order. Field ids below index this list. */
export const FIELDS = [
  'op',
  'vcpu',
  'gpa',
  'size',
  'slot',
  'flags',
  'hva',
  'fd',
  'offset',
  'attrs',
  'ret',
] as const;
export type FieldName = (typeof FIELDS)[number];
export const F_OP = 0;
export const F_VCPU = 1;
export const F_GPA = 2;
export const F_SIZE = 3;
export const F_SLOT = 4;
export const F_FLAGS = 5;
export const F_HVA = 6;
export const F_FD = 7;
export const F_OFFSET = 8;
export const F_ATTRS = 9;
export const F_RET = 10;

/** Ops, by code. The code is the `op` column of a chunk; the order is the format: append only. */
export const OPS = [
  'memslot',
  'gmem_create',
  'gmem_punch',
  'gmem_alloc',
  'gmem_close',
  'attrs',
  'dirty_get',
  'dirty_clear',
  'backing',
  'unmap_hva',
  'uffd',
  'host_read',
  'host_write',
  'read',
  'write',
  'exec',
  'iotlb_update',
  'iotlb_invalidate',
  'iotlb_batch_begin',
  'iotlb_batch_end',
  'vdpa_close',
  'hyp_share',
  'hyp_unshare',
  'expect',
] as const;
export type OpName = (typeof OPS)[number];
export const OP = Object.fromEntries(OPS.map((name, i) => [name, i])) as { readonly [K in OpName]: number };

const OP_BY_NAME = new Map<string, number>(OPS.map((name, i) => [name, i]));

/** The op code of a name, or -1. */
export function opCode(name: string): number {
  return OP_BY_NAME.get(name) ?? -1;
}

/** Guest accesses: the hot path. */
export function isAccessOp(op: number): boolean {
  return op === OP.read || op === OP.write || op === OP.exec;
}

// `backing` kinds and the `uffd` flag are the core's own bits (core/hostmm.ts); the trace names them.
export { BACKING_ANON, BACKING_HUGETLB_1G, BACKING_HUGETLB_2M, BACKING_SHMEM, BACKING_THP, UFFD_PAGE } from '../core/hostmm.js';

/**
 * Symbolic names of flag bits, per op (the `flags` column). A cell may also be numeric (decimal or
 * 0x hex), which is how unknown bits are written. Ops not listed take numeric flags only.
 */
export const FLAG_NAMES: Partial<Record<OpName, ReadonlyArray<readonly [string, number]>>> = {
  memslot: [
    ['log', KVM_MEM_LOG_DIRTY_PAGES],
    ['ro', KVM_MEM_READONLY],
    ['gmem', KVM_MEM_GUEST_MEMFD],
  ],
  gmem_create: [
    ['mmap', 1],
    ['init_shared', 2],
  ],
  backing: [
    ['anon', BACKING_ANON],
    ['thp', BACKING_THP],
    ['hugetlb2m', BACKING_HUGETLB_2M],
    ['hugetlb1g', BACKING_HUGETLB_1G],
    ['shmem', BACKING_SHMEM],
  ],
  uffd: [['page', UFFD_PAGE]],
  read: accessFlagNames(),
  write: accessFlagNames(),
  exec: accessFlagNames(),
  host_read: [],
  host_write: [],
  // vhost_iotlb_msg.perm is a value, not a set of bits: rw is written as one name.
  iotlb_update: [
    ['rw', VHOST_ACCESS_RW],
    ['ro', VHOST_ACCESS_RO],
    ['wo', VHOST_ACCESS_WO],
  ],
};

function accessFlagNames(): ReadonlyArray<readonly [string, number]> {
  return [
    ['private', ACCESS_PRIVATE],
    ['nisv', ACCESS_NISV],
    ['s1ptw', ACCESS_S1PTW],
  ];
}

/** The `attrs` column's symbolic name: KVM_MEMORY_ATTRIBUTE_PRIVATE. */
export const ATTR_NAMES: ReadonlyArray<readonly [string, number]> = [['private', 1 << 3]];

/**
 * One chunk of a trace in columns. Every 64-bit field is two u32 columns (hi, lo) so that values up to
 * 2^64-1 stay exact and the hot path reads plain integers. `ret` is a float64 holding an exact integer:
 * -errno or a count for ioctls, an outcome code (core/outcome.ts) for accesses, the expected value for
 * `expect`. All typed arrays of a chunk are views of `buffer`, so a chunk transfers to a worker by
 * moving one ArrayBuffer.
 */
export interface TraceChunk {
  /** Rows in use (the arrays may be longer). */
  length: number;
  /** Index of this chunk's first row in the whole trace (0-based). */
  firstRow: number;
  buffer: ArrayBuffer;
  op: Uint8Array;
  /** Bit f set: field f was given (not an empty cell). */
  present: Uint16Array;
  /** Bit f set: numeric field f was written in 0x form (kept for byte-identical round trips). */
  hex: Uint16Array;
  vcpu: Uint32Array;
  slot: Uint32Array;
  fd: Uint32Array;
  gpaHi: Uint32Array;
  gpaLo: Uint32Array;
  sizeHi: Uint32Array;
  sizeLo: Uint32Array;
  hvaHi: Uint32Array;
  hvaLo: Uint32Array;
  offsetHi: Uint32Array;
  offsetLo: Uint32Array;
  flagsHi: Uint32Array;
  flagsLo: Uint32Array;
  attrsHi: Uint32Array;
  attrsLo: Uint32Array;
  ret: Float64Array;
  /** Source position for messages: the CSV line number (1-based), or the record index for .s2t. */
  line: Uint32Array;
  /**
   * Cells whose text is not the canonical rendering of their value (e.g. `gmem|log` where canonical
   * order is `log|gmem`), keyed by `row * 16 + field`; the writer prints these as they came.
   */
  verbatim: Map<number, string>;
  /** For `expect` rows, flagsLo indexes this table of metric names. */
  names: string[];
}

/** Metadata of a trace: the `#` lines before the header, in order, and parsed `key: value` pairs. */
export interface TraceMeta {
  comments: string[];
  /** e.g. arch, source, profile, kernel. */
  fields: Record<string, string>;
  /** `#` lines between data rows, each with the number of data rows before it (kept for round trips). */
  bodyComments?: Array<{ row: number; text: string }>;
}
