// Text cells of row objects (TraceBuilder.push) parsed once per op, field and text: a generator or an
// importer writes the same few symbolic texts (`private`, `log|ro`, `ok`, `-EINVAL`) on millions of
// rows, and parsing each anew (split, name lookups, regular expressions) was over a quarter of
// `gen`'s time for the generators that write rows as objects.

import { parseCell } from './cells.js';
import { allocChunk } from './chunk.js';
import { hiColumn, loColumn } from './columns.js';
import { F_ATTRS, F_FLAGS, F_RET, OP, type TraceChunk } from './schema.js';

/** What parseCell stores for a text: the value's columns, its hex bits, and whether it is canonical. */
interface ParsedText {
  readonly hi: number;
  readonly lo: number;
  readonly ret: number;
  readonly hex: number;
  readonly canonical: boolean;
}

/** Texts remembered per op and field: the vocabularies are small; anything past this is parsed each time. */
const MAX_TEXTS = 64;
const memo = new Map<number, Map<string, ParsedText>>();
/** The row parseCell parses a text into, to see what it stores. */
const scratch = allocChunk(1, 0);

/**
 * Whether a text in field `f` of an `op` row stores the same whatever the row's other cells: flags
 * (but an expect row's, a metric name in its chunk's own table), attrs and ret.
 */
export function isMemoizedText(op: number, f: number): boolean {
  return f === F_ATTRS || f === F_RET || (f === F_FLAGS && op !== OP.expect);
}

/**
 * Row i's field `f` (isMemoizedText) from `text`, non-empty: stored exactly as parseCell stores it,
 * with the same errors (a text that fails is not remembered).
 */
export function storeText(chunk: TraceChunk, i: number, op: number, f: number, text: string): void {
  const key = op * 16 + f;
  let texts = memo.get(key);
  let parsed = texts?.get(text);
  if (parsed === undefined) {
    parsed = parse(op, f, text);
    if (texts === undefined) memo.set(key, (texts = new Map()));
    if (texts.size < MAX_TEXTS) texts.set(text, parsed);
  }
  if (f === F_RET) chunk.ret[i] = parsed.ret;
  else {
    hiColumn(chunk, f)[i] = parsed.hi;
    loColumn(chunk, f)[i] = parsed.lo;
  }
  chunk.hex[i]! |= parsed.hex;
  chunk.present[i]! |= 1 << f;
  if (!parsed.canonical) chunk.verbatim.set(i * 16 + f, text);
}

function parse(op: number, f: number, text: string): ParsedText {
  scratch.op[0] = op;
  scratch.hex[0] = 0;
  scratch.ret[0] = 0;
  scratch.verbatim.clear();
  parseCell(scratch, 0, f, text);
  const ret = f === F_RET;
  return {
    hi: ret ? 0 : hiColumn(scratch, f)[0]!,
    lo: ret ? 0 : loColumn(scratch, f)[0]!,
    ret: ret ? scratch.ret[0]! : 0,
    hex: scratch.hex[0]!,
    canonical: !scratch.verbatim.has(f),
  };
}
