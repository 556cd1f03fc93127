// A trace row as an object: what importers, generators and tests build, and what `rowAt` decodes for
// messages and slow paths. The hot path never sees these; it reads chunk columns.

import { OUTCOME_NAMES } from '../core/outcome.js';
import { errnoName } from '../core/abi.js';
import { u64 } from './columns.js';
import { SYMBOLIC_RET, renderCell } from './cells.js';
import {
  FIELDS,
  F_ATTRS,
  F_FD,
  F_FLAGS,
  F_GPA,
  F_HVA,
  F_OFFSET,
  F_RET,
  F_SIZE,
  F_SLOT,
  F_VCPU,
  OP,
  OPS,
  OP_SPECS,
  isAccessOp,
  type OpName,
  type TraceChunk,
} from './schema.js';

export interface TraceRow {
  op: OpName;
  vcpu?: number;
  gpa?: bigint;
  size?: bigint;
  slot?: number;
  /** A number, or the cell's text: symbolic flags (`log|ro`), or the metric name of an `expect` row. */
  flags?: bigint | string;
  hva?: bigint;
  fd?: number;
  offset?: bigint;
  /** A number, or `private`. */
  attrs?: bigint | string;
  /** -errno, a count or an expected value; or text: `ok|mmio|memfault|enosys` or `-EINVAL` style. */
  ret?: number | string;
}

/** Required fields as `present` bitmasks, by op code (from the op table): the per-row check is one AND. */
const REQUIRED_MASK = OP_SPECS.map((spec) => spec.fields.reduce((mask, name) => mask | (1 << FIELDS.indexOf(name)), 0));

/** The names of required fields row `i` lacks (empty when it has them all). */
export function missingFields(chunk: TraceChunk, i: number): string[] {
  const present = chunk.present[i]!;
  const mask = REQUIRED_MASK[chunk.op[i]!]!;
  if ((present & mask) === mask) return NONE_MISSING;
  return OP_SPECS[chunk.op[i]!]!.fields.filter((name) => (present & (1 << FIELDS.indexOf(name))) === 0);
}

const NONE_MISSING: string[] = [];

/**
 * The most a single access row may sweep: 1 TiB (2^28 pages). A row is one guest loop; anything
 * larger is a broken trace, and replaying it would loop for hours (a size up to 2^64-1 is a valid
 * number, so the number parser alone cannot catch it).
 */
export const MAX_ACCESS_SIZE_HI = 1 << 8; // size < 2^40

/**
 * Host-side rows whose cost in the model grows with their size, not with what they touch: host_read /
 * host_write walk every page while any registration exists (2^52 steps never end). They get the access
 * sweep's bound, so `validate` rejects what replay could not do instead of replay looping for hours.
 * (A uffd registration is not bounded: its populated pages are runs, src/core/hostmm.ts.)
 */
const HOST_SWEEP_REASON: Partial<Record<number, string>> = {
  [OP.host_read]: 'the model walks it page by page',
  [OP.host_write]: 'the model walks it page by page',
};

/** What is wrong with row i as a whole (required fields, bounds), or undefined when nothing is. */
export function rowProblem(chunk: TraceChunk, i: number): { field: string; detail: string } | undefined {
  const missing = missingFields(chunk, i);
  if (missing.length > 0) return { field: missing[0]!, detail: `op ${OPS[chunk.op[i]!]} requires ${missing.join(', ')}` };
  const op = chunk.op[i]!;
  if ((chunk.present[i]! & (1 << F_SIZE)) !== 0 && chunk.sizeHi[i]! >= MAX_ACCESS_SIZE_HI) {
    const size = `0x${u64(chunk.sizeHi, chunk.sizeLo, i).toString(16)}`;
    if (isAccessOp(op)) return { field: 'size', detail: `an access row may sweep at most 1 TiB (size < 0x10000000000), found ${size}` };
    const reason = HOST_SWEEP_REASON[op];
    if (reason !== undefined) return { field: 'size', detail: `a ${OPS[op]} row may cover at most 1 TiB (size < 0x10000000000), found ${size}: ${reason}` };
  }
  return undefined;
}

/** The text of one TraceRow value: a bigint as 0x hex, anything else as String() does ('' if not given). */
export function rowCellText(v: bigint | number | string | undefined): string {
  return v === undefined ? '' : typeof v === 'bigint' ? `0x${v.toString(16)}` : String(v);
}

/** Cell texts of a TraceRow, in column order ('' for fields not given). */
export function rowCells(row: TraceRow): string[] {
  const cell = rowCellText;
  return [row.op, cell(row.vcpu), cell(row.gpa), cell(row.size), cell(row.slot), cell(row.flags), cell(row.hva), cell(row.fd), cell(row.offset), cell(row.attrs), cell(row.ret)];
}

/** Decode row `i` of a chunk (slow path: messages, tests, importers' checks). */
export function rowAt(chunk: TraceChunk, i: number): TraceRow {
  const op = chunk.op[i]!;
  const row: TraceRow = { op: OPS[op]! };
  const has = (f: number): boolean => (chunk.present[i]! & (1 << f)) !== 0;
  if (has(F_VCPU)) row.vcpu = chunk.vcpu[i]!;
  if (has(F_GPA)) row.gpa = u64(chunk.gpaHi, chunk.gpaLo, i);
  if (has(F_SIZE)) row.size = u64(chunk.sizeHi, chunk.sizeLo, i);
  if (has(F_SLOT)) row.slot = chunk.slot[i]!;
  if (has(F_FLAGS)) row.flags = op === OP.expect ? renderCell(chunk, i, F_FLAGS) : u64(chunk.flagsHi, chunk.flagsLo, i);
  if (has(F_HVA)) row.hva = u64(chunk.hvaHi, chunk.hvaLo, i);
  if (has(F_FD)) row.fd = chunk.fd[i]!;
  if (has(F_OFFSET)) row.offset = u64(chunk.offsetHi, chunk.offsetLo, i);
  if (has(F_ATTRS)) row.attrs = u64(chunk.attrsHi, chunk.attrsLo, i);
  if (has(F_RET)) {
    const ret = chunk.ret[i]!;
    row.ret =
      (chunk.hex[i]! & SYMBOLIC_RET) === 0
        ? ret
        : isAccessOp(op) && ret >= 0
          ? OUTCOME_NAMES[ret]!
          : `-${errnoName(-ret)}`;
  }
  return row;
}
