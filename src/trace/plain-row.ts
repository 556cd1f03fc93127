// The common CSV data line in one pass over its bytes: a known op, then ten cells each empty, a
// canonical decimal (up to 15 digits) or lowercase 0x hex (up to 13 digits), and a ret that is an
// access outcome name or a canonical signed decimal (byte-cells.ts' storeRetBytes, the per-cell
// reader's rule too). That is nearly every row a generator or a
// recording writes. Any other line (a quote, a symbolic or non-canonical cell, a wrong column count,
// a u32 cell past 2^32-1) is left to the general path, which parses it cell by cell with exact errors.

import { opCodeOfBytes, RET_NAME, RET_NOT_PLAIN, storeRetBytes } from './byte-cells.js';
import { SYMBOLIC_RET } from './cells.js';
import { FIELDS, F_FD, F_FLAGS, F_RET, F_SLOT, F_VCPU, OP, type TraceChunk } from './schema.js';

const LAST = FIELDS.length - 1;
const COMMA = 44;

/** Row i's columns by field id, for the chunk last written (a chunk's columns never move). */
let columnsOf: TraceChunk | undefined;
/** The u32 column of a u32 field, or the hi column of a 64-bit field. */
const HI: Uint32Array[] = [];
/** The lo column of a 64-bit field (unused for u32 fields). */
const LO: Uint32Array[] = [];
const IS_U32 = Uint8Array.from(FIELDS, (_, f) => (f === F_VCPU || f === F_SLOT || f === F_FD ? 1 : 0));

function bindColumns(chunk: TraceChunk): void {
  const hi = [undefined, chunk.vcpu, chunk.gpaHi, chunk.sizeHi, chunk.slot, chunk.flagsHi, chunk.hvaHi, chunk.fd, chunk.offsetHi, chunk.attrsHi];
  const lo = [undefined, chunk.vcpu, chunk.gpaLo, chunk.sizeLo, chunk.slot, chunk.flagsLo, chunk.hvaLo, chunk.fd, chunk.offsetLo, chunk.attrsLo];
  for (let f = 1; f < LAST; f++) {
    HI[f] = hi[f]!;
    LO[f] = lo[f]!;
  }
  columnsOf = chunk;
}

/**
 * Row i of `chunk` (an unused row: all zero) from the line bytes[start, end) (no newline, no CR): true
 * when the line is plain and every cell is stored (op, present and hex too; the caller sets the line
 * and checks the row as a whole); false when it is not, with row i left all zero.
 */
export function readPlainRow(chunk: TraceChunk, i: number, bytes: Uint8Array, start: number, end: number): boolean {
  let k = start;
  while (k < end && bytes[k] !== COMMA) k++;
  const op = k < end ? opCodeOfBytes(bytes, start, k) : -1;
  if (op < 0) return false;
  if (chunk !== columnsOf) bindColumns(chunk);
  if (readCells(chunk, i, op, bytes, k, end)) return true;
  for (let f = 1; f < LAST; f++) {
    HI[f]![i] = 0;
    LO[f]![i] = 0;
  }
  chunk.ret[i] = 0;
  return false;
}

/** The cells after the op (bytes[k] is the comma after it) into row i; false when one is not plain. */
function readCells(chunk: TraceChunk, i: number, op: number, bytes: Uint8Array, k: number, end: number): boolean {
  let present = 1;
  let hex = 0;
  for (let f = 1; f < LAST; f++) {
    // bytes[k] is the comma before cell f.
    k++;
    if (k === end) return false; // too few columns
    let c = bytes[k]!;
    if (c === COMMA) continue; // an empty cell
    if (f === F_FLAGS && op === OP.expect) return false; // a metric name
    // byte-cells.ts' scanNumber, for canonical spellings only, written out here: one shared scanner
    // called per cell (inlined or not; scratch fields or one packed result) cost 6-10% of the CPU of
    // `validate` of a 150 MB trace.
    let value = 0;
    let digits = 0;
    if (c === 48 && k + 1 < end && bytes[k + 1] === 120) {
      // 0x hex: lowercase, no leading zero but for 0x0.
      k += 2;
      for (; k < end; k++) {
        c = bytes[k]!;
        if (c >= 48 && c <= 57) value = value * 16 + (c - 48);
        else if (c >= 97 && c <= 102) value = value * 16 + (c - 87);
        else break;
        digits++;
      }
      if (digits === 0 || digits > 13 || (digits > 1 && bytes[k - digits] === 48)) return false;
      hex |= 1 << f;
    } else {
      for (; k < end; k++) {
        c = bytes[k]!;
        if (c < 48 || c > 57) break;
        value = value * 10 + (c - 48);
        digits++;
      }
      if (digits === 0 || digits > 15 || (digits > 1 && bytes[k - digits] === 48)) return false;
    }
    if (k === end || bytes[k] !== COMMA) return false; // another character, or too few columns
    if (IS_U32[f] === 1) {
      if (value > 0xffffffff) return false;
      HI[f]![i] = value;
    } else {
      HI[f]![i] = Math.floor(value / 0x1_0000_0000);
      LO[f]![i] = value >>> 0;
    }
    present |= 1 << f;
  }
  // bytes[k] is the comma before ret, the last cell.
  k++;
  if (k < end) {
    const ret = storeRetBytes(chunk, i, op, bytes, k, end);
    if (ret === RET_NOT_PLAIN) return false;
    present |= 1 << F_RET;
    if (ret === RET_NAME) hex |= SYMBOLIC_RET;
  }
  chunk.op[i] = op;
  chunk.present[i] = present;
  chunk.hex[i] = hex;
  return true;
}
