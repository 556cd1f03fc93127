// Allocation of columnar chunks: every column is a view into one ArrayBuffer (flatbush style), so a
// chunk moves to a worker by transferring that buffer, and writes to .s2t as one block per column.

import { OP, type TraceChunk } from './schema.js';

/** Rows per chunk unless a caller asks otherwise: 64K rows is ~4.5 MB of columns. */
export const DEFAULT_CHUNK_ROWS = 65536;

/** Column names in buffer order (widest first, so every view is aligned), with their element size. */
export const COLUMN_LAYOUT = [
  ['ret', 8],
  ['vcpu', 4],
  ['slot', 4],
  ['fd', 4],
  ['gpaHi', 4],
  ['gpaLo', 4],
  ['sizeHi', 4],
  ['sizeLo', 4],
  ['hvaHi', 4],
  ['hvaLo', 4],
  ['offsetHi', 4],
  ['offsetLo', 4],
  ['flagsHi', 4],
  ['flagsLo', 4],
  ['attrsHi', 4],
  ['attrsLo', 4],
  ['line', 4],
  ['present', 2],
  ['hex', 2],
  ['op', 1],
] as const;
export type ColumnName = (typeof COLUMN_LAYOUT)[number][0];

/** Bytes one row takes across all columns. */
export const ROW_BYTES = COLUMN_LAYOUT.reduce((sum, [, size]) => sum + size, 0);

export function chunkBytes(capacity: number): number {
  // Every column starts 8-byte aligned.
  return COLUMN_LAYOUT.reduce((sum, [, size]) => sum + align8(size * capacity), 0);
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Views of `buffer` laid out for `capacity` rows; `buffer` may come from a file or another thread. */
export function chunkOver(buffer: ArrayBuffer, capacity: number, length: number, firstRow: number): TraceChunk {
  let offset = 0;
  const views: Record<string, ArrayBufferView> = {};
  for (const [name, size] of COLUMN_LAYOUT) {
    const ctor = size === 8 ? Float64Array : size === 4 ? Uint32Array : size === 2 ? Uint16Array : Uint8Array;
    views[name] = new ctor(buffer, offset, capacity);
    offset += align8(size * capacity);
  }
  return {
    ...(views as unknown as Omit<TraceChunk, 'length' | 'firstRow' | 'buffer' | 'verbatim' | 'names'>),
    length,
    firstRow,
    buffer,
    verbatim: new Map(),
    names: [],
  };
}

/**
 * How a consumer takes a stream of chunks, whoever produces them (the .s2t and CSV readers, the
 * generators that write chunks, chunksOf).
 */
export interface ChunkOptions {
  /**
   * The consumer keeps nothing of a chunk once it asks for the next (it wrote, counted or replayed it):
   * the producer may then fill every chunk into the same buffers, so a chunk is valid only until the
   * next one is asked for. This spares an allocation of a chunk's columns per chunk and the garbage
   * they leave behind. A consumer that keeps chunks or transfers them to another thread must not ask.
   */
  reuse?: boolean;
}

export function allocChunk(capacity: number, firstRow: number): TraceChunk {
  return chunkOver(new ArrayBuffer(chunkBytes(capacity)), capacity, 0, firstRow);
}

/** Capacity of a chunk's columns (its arrays may be longer than `length`). */
export function chunkCapacity(chunk: TraceChunk): number {
  return chunk.op.length;
}

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/** The names of the columns whose elements take `size` bytes. */
type ColumnOfSize<S extends number> = Extract<(typeof COLUMN_LAYOUT)[number], readonly [string, S]>[0];

function columnsOfSize<S extends number>(size: S): Array<ColumnOfSize<S>> {
  return COLUMN_LAYOUT.filter(([, s]) => s === size).map(([name]) => name as ColumnOfSize<S>);
}

// The columns by element type, for appendRows: each list is copied by a loop that sees one array type.
const F64_COLUMNS = columnsOfSize(8);
const U32_COLUMNS = columnsOfSize(4);
const U16_COLUMNS = columnsOfSize(2);
const U8_COLUMNS = columnsOfSize(1);

/**
 * Append rows `rows` (indices into `src`, ascending) to `dst`, which must have room: every column,
 * column by column, then the rows' verbatim cells. `expect` metric names are re-interned in `dst`'s
 * own names table. Each element type has its own copy loop: one loop over columns of mixed types is
 * polymorphic in V8, and took 1.6x as long on a 32K-row pick (a sharded replay copies every row).
 */
export function appendRows(dst: TraceChunk, src: TraceChunk, rows: ArrayLike<number>, count = rows.length): void {
  const base = dst.length;
  for (const name of F64_COLUMNS) pickF64(src[name], dst[name], rows, count, base);
  for (const name of U32_COLUMNS) pickU32(src[name], dst[name], rows, count, base);
  for (const name of U16_COLUMNS) pickU16(src[name], dst[name], rows, count, base);
  for (const name of U8_COLUMNS) pickU8(src[name], dst[name], rows, count, base);
  for (let k = 0; k < count; k++) {
    const i = rows[k]!;
    const j = base + k;
    if (src.verbatim.size > 0) {
      for (let f = 0; f < 16; f++) {
        const text = src.verbatim.get(i * 16 + f);
        if (text !== undefined) dst.verbatim.set(j * 16 + f, text);
      }
    }
    if (src.op[i] === OP.expect) {
      const name = src.names[src.flagsLo[i]!]!;
      let index = dst.names.indexOf(name);
      if (index < 0) index = dst.names.push(name) - 1;
      dst.flagsHi[j] = 0;
      dst.flagsLo[j] = index;
    }
  }
  dst.length = base + count;
}

function pickU32(from: Uint32Array, to: Uint32Array, rows: ArrayLike<number>, count: number, base: number): void {
  for (let k = 0; k < count; k++) to[base + k] = from[rows[k]!]!;
}

function pickF64(from: Float64Array, to: Float64Array, rows: ArrayLike<number>, count: number, base: number): void {
  for (let k = 0; k < count; k++) to[base + k] = from[rows[k]!]!;
}

function pickU16(from: Uint16Array, to: Uint16Array, rows: ArrayLike<number>, count: number, base: number): void {
  for (let k = 0; k < count; k++) to[base + k] = from[rows[k]!]!;
}

function pickU8(from: Uint8Array, to: Uint8Array, rows: ArrayLike<number>, count: number, base: number): void {
  for (let k = 0; k < count; k++) to[base + k] = from[rows[k]!]!;
}

/**
 * Rows [start, end) of `chunk` as a chunk of their own: views into the same buffer, nothing copied.
 * Row i of the slice is row start + i of `chunk`; `verbatim` keys still count from `chunk`'s first
 * row, so a slice is for replaying, not for writing.
 */
export function sliceChunk(chunk: TraceChunk, start: number, end: number): TraceChunk {
  const slice = { ...chunk, length: end - start, firstRow: chunk.firstRow + start };
  const views = slice as unknown as Record<ColumnName, Column>;
  for (const [name] of COLUMN_LAYOUT) views[name] = (chunk[name] as Column).subarray(start, end);
  return slice;
}
