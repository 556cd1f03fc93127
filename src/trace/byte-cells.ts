// The cells of an unquoted CSV data line read straight from the file's bytes: the op name looked up by
// its bytes, plain numbers and access outcomes stored into the chunk's columns without making a string.
// Anything else (symbolic names, long or bad numbers, errno names, non-ASCII text) is decoded and goes
// to parseCell, so every value and every error is exactly what the cell's text would give.

import { OUTCOME_NAMES } from '../core/outcome.js';
import { parseCell, storeNumber, SYMBOLIC_RET } from './cells.js';
import { ACCESS_OPS, F_FLAGS, F_RET, OP, OPS, type TraceChunk } from './schema.js';

/** The ASCII bytes of each name of a list. */
function nameBytes(names: readonly string[]): Uint8Array[] {
  return names.map((name) => Uint8Array.from(name, (c) => c.charCodeAt(0)));
}

/** Op codes by the name's first letter (a..z). */
const OPS_BY_LETTER: number[][] = Array.from({ length: 26 }, (_, l) => OPS.flatMap((name, code) => (name.charCodeAt(0) - 97 === l ? [code] : [])));
const OP_BYTES = nameBytes(OPS);
const OUTCOME_BYTES = nameBytes(OUTCOME_NAMES);

/** Whether bytes[start, end) spell `name`. */
function spells(bytes: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (bytes[start + k] !== name[k]) return false;
  return true;
}

/** The access outcome (OUTCOME_NAMES index) spelled by bytes[start, end), or -1. */
export function outcomeOfBytes(bytes: Uint8Array, start: number, end: number): number {
  for (let outcome = 0; outcome < OUTCOME_BYTES.length; outcome++) if (spells(bytes, start, end, OUTCOME_BYTES[outcome]!)) return outcome;
  return -1;
}

/** The op code of the name bytes[start, end), or -1. */
export function opCodeOfBytes(bytes: Uint8Array, start: number, end: number): number {
  const candidates = OPS_BY_LETTER[bytes[start]! - 97];
  if (candidates === undefined) return -1;
  for (let k = 0; k < candidates.length; k++) {
    if (spells(bytes, start, end, OP_BYTES[candidates[k]!]!)) return candidates[k]!;
  }
  return -1;
}

// Results of the last scanNumber (module scratch, so the per-cell path allocates nothing).
let scanValue = 0;
let scanHex = false;
let scanCanonical = false;

/**
 * Decimal of at most 15 digits or 0x hex of at most 13 digits: below 2^53, so exact as a JS number.
 * Reads bytes[start, end). True with the scratch above set, or false for anything else (longer, or not
 * a number), which parseCell then parses as a bigint or rejects with a message.
 */
function scanNumber(bytes: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  let value = 0;
  if (n > 2 && bytes[start] === 48 && (bytes[start + 1]! | 0x20) === 120) {
    if (n > 15) return false;
    let canonical = bytes[start + 1] === 120 && (n === 3 || bytes[start + 2] !== 48);
    for (let k = start + 2; k < end; k++) {
      const c = bytes[k]!;
      let digit: number;
      if (c >= 48 && c <= 57) digit = c - 48;
      else if (c >= 97 && c <= 102) digit = c - 87;
      else if (c >= 65 && c <= 70) {
        digit = c - 55;
        canonical = false;
      } else return false;
      value = value * 16 + digit;
    }
    scanValue = value;
    scanHex = true;
    scanCanonical = canonical;
    return true;
  }
  if (n > 15) return false;
  for (let k = start; k < end; k++) {
    const d = bytes[k]! - 48;
    if (d < 0 || d > 9) return false;
    value = value * 10 + d;
  }
  scanValue = value;
  scanHex = false;
  scanCanonical = n === 1 || bytes[start] !== 48;
  return true;
}

/** The text of bytes[start, end) as the decoder of the whole file would give it. */
function cellText(bytes: Buffer, start: number, end: number): string {
  return bytes.toString('utf8', start, end);
}

/**
 * parseCell for the cell bytes[start, end) (non-empty) of row i, whose op is set: a plain number or
 * access outcome is stored from the bytes; anything else goes to parseCell as text.
 */
export function parseCellBytes(chunk: TraceChunk, i: number, f: number, bytes: Buffer, start: number, end: number): void {
  if (f === F_RET) {
    const ret = storeRetBytes(chunk, i, chunk.op[i]!, bytes, start, end);
    if (ret === RET_NOT_PLAIN) parseCell(chunk, i, f, cellText(bytes, start, end));
    else {
      chunk.present[i]! |= 1 << F_RET;
      if (ret === RET_NAME) chunk.hex[i]! |= SYMBOLIC_RET;
    }
    return;
  }
  if (!(f === F_FLAGS && chunk.op[i] === OP.expect) && scanNumber(bytes, start, end) && storeNumber(chunk, i, f, scanValue, scanHex)) {
    chunk.present[i]! |= 1 << f;
    // Plain ASCII digits here, so latin1 decodes them as utf8 would.
    if (!scanCanonical) chunk.verbatim.set(i * 16 + f, bytes.toString('latin1', start, end));
    return;
  }
  parseCell(chunk, i, f, cellText(bytes, start, end));
}

/** What storeRetBytes found: a cell it did not store, a number, or an access outcome name. */
export const RET_NOT_PLAIN = 0;
export const RET_NUMBER = 1;
export const RET_NAME = 2;
const OK = OUTCOME_NAMES.indexOf('ok');

/**
 * The common ret cells, bytes[start, end) (non-empty), stored into row i's ret column (op `op`): an
 * access outcome name on an access row (RET_NAME), or a canonical decimal, 0 or up to 15 digits with no
 * leading zero and an optional minus, that parseCell would keep as it is (RET_NUMBER). RET_NOT_PLAIN,
 * storing nothing, for anything else (a comma too: a line with a column too many), which parseCell then
 * reads. The caller sets the present and hex bits.
 */
export function storeRetBytes(chunk: TraceChunk, i: number, op: number, bytes: Uint8Array, start: number, end: number): number {
  const first = bytes[start]!;
  if (first >= 97) {
    if (ACCESS_OPS[op] !== 1) return RET_NOT_PLAIN; // only an access's ret may be an outcome name
    const outcome = end - start === 2 && first === 111 && bytes[start + 1] === 107 ? OK : outcomeOfBytes(bytes, start, end);
    if (outcome < 0) return RET_NOT_PLAIN;
    chunk.ret[i] = outcome;
    return RET_NAME;
  }
  const negative = first === 45;
  const from = negative ? start + 1 : start;
  const digits = end - from;
  if (digits < 1 || digits > 15 || (bytes[from] === 48 && (digits > 1 || negative))) return RET_NOT_PLAIN;
  let value = 0;
  for (let k = from; k < end; k++) {
    const d = bytes[k]! - 48;
    if (d < 0 || d > 9) return RET_NOT_PLAIN;
    value = value * 10 + d;
  }
  chunk.ret[i] = negative ? -value : value;
  return RET_NUMBER;
}
