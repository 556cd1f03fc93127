// Trace format v1: the columns, the ops (their table is ops.ts), the symbolic vocabularies, and the
// columnar chunk that readers yield and the replay engine consumes (docs/trace-format.md).

import { OP_SPECS, OP_TABLE, type OpCodes, type OpName } from './ops.js';

export const TRACE_MAGIC_LINE = '# s2bench trace v1';
export const TRACE_VERSION = 1;

export * from './fields.js';

// The ops and everything known about each live in the op table (ops.ts); these are its views by code.
export { OP_SPECS, OP_TABLE, type OpName, type OpSpec } from './ops.js';

/** Op names by code (the `op` column's value indexes this). */
export const OPS: readonly OpName[] = (Object.keys(OP_TABLE) as OpName[]).sort((a, b) => OP_TABLE[a].code - OP_TABLE[b].code);
/** Op codes by name, as literal types (`switch` over them can be exhaustive). */
export const OP = Object.fromEntries(OPS.map((name) => [name, OP_TABLE[name].code])) as OpCodes;

const OP_BY_NAME = new Map<string, number>(OPS.map((name, i) => [name, i]));

/** The op code of a name, or -1. */
export function opCode(name: string): number {
  return OP_BY_NAME.get(name) ?? -1;
}

/** By op code: 1 for guest accesses; a table, for code that asks per row. */
export const ACCESS_OPS = Uint8Array.from(OP_SPECS, (spec) => (spec.access === undefined ? 0 : 1));

/** Guest accesses: the hot path. */
export function isAccessOp(op: number): boolean {
  return ACCESS_OPS[op] === 1;
}

// `backing` kinds and the `uffd` flag are the core's own bits (core/hostmm.ts); the trace names them.
export { BACKING_ANON, BACKING_HUGETLB_1G, BACKING_HUGETLB_2M, BACKING_SHMEM, BACKING_THP, UFFD_PAGE } from '../core/hostmm.js';

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
