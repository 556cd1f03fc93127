// One cell of a trace: parsed exactly into a chunk's columns, and rendered back. A cell whose text is
// not the canonical rendering of its value is kept verbatim, so CSV -> s2t -> CSV is byte-identical.

import { ERRNO, errnoName, type ErrnoName } from '../core/abi.js';
import { OUTCOME_NAMES } from '../core/outcome.js';
import { hiColumn, loColumn, setU64, u64 } from './columns.js';
import {
  ATTR_NAMES,
  FIELDS,
  F_ATTRS,
  F_FD,
  F_FLAGS,
  F_RET,
  F_SLOT,
  F_VCPU,
  OP,
  OPS,
  OP_SPECS,
  isAccessOp,
  type TraceChunk,
} from './schema.js';

/** `hex` bits above the field bits: the cell was written by name, not as a number. */
export const SYMBOLIC_FLAGS = 1 << 13;
export const SYMBOLIC_ATTRS = 1 << 14;
export const SYMBOLIC_RET = 1 << 15;

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^[0-9]+$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;
const CANONICAL_DECIMAL = /^(0|[1-9][0-9]*)$/;
const CANONICAL_HEX = /^0x(0|[1-9a-f][0-9a-f]*)$/;

/** A problem with one cell; the reader adds file and line. */
export class CellError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function parseUnsigned(field: number, text: string, max: bigint): { value: bigint; hex: boolean } {
  let value: bigint;
  let hex: boolean;
  if (DECIMAL.test(text)) {
    value = BigInt(text);
    hex = false;
  } else if (HEX.test(text)) {
    value = BigInt(text);
    hex = true;
  } else {
    throw new CellError(FIELDS[field]!, `'${text}' is not a number (expected decimal or 0x hex)`);
  }
  if (value > max) {
    throw new CellError(FIELDS[field]!, `${text} is out of range (at most ${max === U64_MAX ? '2^64-1' : `0x${max.toString(16)}`})`);
  }
  return { value, hex };
}

function isCanonicalNumber(text: string, hex: boolean): boolean {
  return hex ? CANONICAL_HEX.test(text) : CANONICAL_DECIMAL.test(text);
}

const U32_FIELDS: Partial<Record<number, keyof TraceChunk>> = { [F_VCPU]: 'vcpu', [F_SLOT]: 'slot', [F_FD]: 'fd' };

function symbolicValue(names: ReadonlyArray<readonly [string, number]>, text: string, field: string, op: string): number {
  let value = 0;
  for (const part of text.split('|')) {
    const entry = names.find(([name]) => name === part);
    if (entry === undefined) {
      const known = names.map(([name]) => name).join(', ');
      throw new CellError(field, `unknown ${field} name '${part}' for op ${op} (expected ${known || 'a number'}, or a number)`);
    }
    value |= entry[1];
  }
  return value;
}

/** Canonical symbolic rendering of `value`, or undefined when some bits have no name. */
function symbolicText(names: ReadonlyArray<readonly [string, number]>, value: bigint, exact: boolean): string | undefined {
  if (value > 0xffffffffn) return undefined;
  const v = Number(value);
  if (exact) return names.find(([, bits]) => bits === v)?.[0];
  const parts: string[] = [];
  let covered = 0;
  for (const [name, bits] of names) {
    if ((v & bits) === bits && bits !== 0) {
      parts.push(name);
      covered |= bits;
    }
  }
  return covered === v && parts.length > 0 ? parts.join('|') : undefined;
}

/** The symbolic names of the flags column for an op (none: numbers only). */
function flagNames(op: number): ReadonlyArray<readonly [string, number]> {
  return OP_SPECS[op]?.flags?.names ?? [];
}

/** iotlb perm is one value (rw = ro|wo), not a set of bits. */
function isValueVocabulary(op: number): boolean {
  return OP_SPECS[op]?.flags?.value === true;
}

/** Parse `text` (non-empty) as field `f` of row `i`, whose op is already set. */
export function parseCell(chunk: TraceChunk, i: number, f: number, text: string): void {
  const op = chunk.op[i]!;
  const opName = OPS[op]!;
  let canonical: boolean;
  if (f === F_RET) {
    canonical = parseRet(chunk, i, text, op);
  } else if (f === F_FLAGS && op === OP.expect) {
    let index = chunk.names.indexOf(text);
    if (index < 0) index = chunk.names.push(text) - 1;
    setU64(chunk.flagsHi, chunk.flagsLo, i, BigInt(index));
    canonical = true;
  } else if ((f === F_FLAGS || f === F_ATTRS) && !DECIMAL.test(text) && !HEX.test(text)) {
    const names = f === F_FLAGS ? flagNames(op) : ATTR_NAMES;
    const value = symbolicValue(names, text, FIELDS[f]!, opName);
    setU64(hiColumn(chunk, f), loColumn(chunk, f), i, BigInt(value));
    chunk.hex[i]! |= f === F_FLAGS ? SYMBOLIC_FLAGS : SYMBOLIC_ATTRS;
    canonical = symbolicText(names, BigInt(value), f === F_FLAGS && isValueVocabulary(op)) === text;
  } else {
    const u32 = U32_FIELDS[f];
    const { value, hex } = parseUnsigned(f, text, u32 !== undefined ? 0xffffffffn : U64_MAX);
    if (u32 !== undefined) (chunk[u32] as Uint32Array)[i] = Number(value);
    else {
      setU64(hiColumn(chunk, f), loColumn(chunk, f), i, value);
    }
    if (hex) chunk.hex[i]! |= 1 << f;
    canonical = isCanonicalNumber(text, hex);
  }
  chunk.present[i]! |= 1 << f;
  if (!canonical) chunk.verbatim.set(i * 16 + f, text);
}

/**
 * A number read elsewhere (src/trace/byte-cells.ts: below 2^53, so exact) into field `f` of row i (not
 * ret), with its hex bit; false, storing nothing, when a u32 field cannot hold it.
 */
export function storeNumber(chunk: TraceChunk, i: number, f: number, value: number, hex: boolean): boolean {
  if (f === F_VCPU || f === F_SLOT || f === F_FD) {
    if (value > 0xffffffff) return false;
    (f === F_VCPU ? chunk.vcpu : f === F_SLOT ? chunk.slot : chunk.fd)[i] = value;
  } else {
    hiColumn(chunk, f)[i] = Math.floor(value / 0x1_0000_0000);
    loColumn(chunk, f)[i] = value >>> 0;
  }
  if (hex) chunk.hex[i]! |= 1 << f;
  return true;
}

function parseRet(chunk: TraceChunk, i: number, text: string, op: number): boolean {
  const outcome = (OUTCOME_NAMES as readonly string[]).indexOf(text);
  if (outcome >= 0) {
    if (!isAccessOp(op)) throw new CellError('ret', `'${text}' is an access outcome, but op ${OPS[op]} is not an access`);
    chunk.ret[i] = outcome;
    chunk.hex[i]! |= SYMBOLIC_RET;
    return true;
  }
  if (text.startsWith('-E')) {
    const value = ERRNO[text.slice(1) as ErrnoName];
    if (value === undefined) throw new CellError('ret', `unknown errno name '${text.slice(1)}'`);
    chunk.ret[i] = -value;
    chunk.hex[i]! |= SYMBOLIC_RET;
    return true;
  }
  if (/^-?[0-9]+$/.test(text)) {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new CellError('ret', `${text} is out of range (at most 2^53-1 in magnitude)`);
    chunk.ret[i] = value;
    return String(value) === text;
  }
  // 0x hex like every other number field (a memslot's returned size, a recorded address); the text is
  // kept verbatim, since the canonical ret is decimal.
  if (HEX.test(text)) {
    const value = Number(text);
    if (!Number.isSafeInteger(value)) throw new CellError('ret', `${text} is out of range (at most 2^53-1)`);
    chunk.ret[i] = value;
    return false;
  }
  const names = isAccessOp(op) ? OUTCOME_NAMES.join(', ') : "-ERRNO (e.g. -EINVAL), an integer or 0x hex";
  throw new CellError('ret', `'${text}' is not a valid ret (expected ${names})`);
}

/** The text of field `f` of row `i` as the canonical writer prints it ('' when not given). */
export function renderCell(chunk: TraceChunk, i: number, f: number): string {
  if ((chunk.present[i]! & (1 << f)) === 0) return '';
  const verbatim = chunk.verbatim.get(i * 16 + f);
  if (verbatim !== undefined) return verbatim;
  const op = chunk.op[i]!;
  const bits = chunk.hex[i]!;
  if (f === F_RET) {
    const ret = chunk.ret[i]!;
    if ((bits & SYMBOLIC_RET) !== 0) {
      return isAccessOp(op) && ret >= 0 ? OUTCOME_NAMES[ret]! : `-${errnoName(-ret)}`;
    }
    return String(ret);
  }
  const u32 = U32_FIELDS[f];
  if (u32 !== undefined) {
    const v = (chunk[u32] as Uint32Array)[i]!;
    return (bits & (1 << f)) !== 0 ? `0x${v.toString(16)}` : String(v);
  }
  const value = u64(hiColumn(chunk, f), loColumn(chunk, f), i);
  if (f === F_FLAGS && op === OP.expect) return chunk.names[Number(value)]!;
  if ((f === F_FLAGS && (bits & SYMBOLIC_FLAGS) !== 0) || (f === F_ATTRS && (bits & SYMBOLIC_ATTRS) !== 0)) {
    const names = f === F_FLAGS ? flagNames(op) : ATTR_NAMES;
    const text = symbolicText(names, value, f === F_FLAGS && isValueVocabulary(op));
    if (text !== undefined) return text;
  }
  return (bits & (1 << f)) !== 0 ? `0x${value.toString(16)}` : value.toString();
}
