// Rows in, columnar chunks out. The CSV reader feeds cell texts; importers, generators and tests feed
// TraceRow objects. Every row is validated here, once, so nothing downstream re-checks it.

import { opCodeOfBytes, parseCellBytes } from './byte-cells.js';
import { readPlainRow } from './plain-row.js';
import { CellError, parseCell, SYMBOLIC_RET } from './cells.js';
import { OUTCOME_NAMES, type OutcomeName } from '../core/outcome.js';
import { hiColumn, loColumn, setU64 } from './columns.js';
import { allocChunk, chunkCapacity, COLUMN_LAYOUT, DEFAULT_CHUNK_ROWS } from './chunk.js';
import { TraceError } from '../errors.js';
import { rowCellText, rowCells, rowProblem, type TraceRow } from './row.js';
import { isMemoizedText, storeText } from './text-cells.js';
import { ACCESS_OPS, F_ATTRS, F_FD, F_FLAGS, F_GPA, F_HVA, F_OFFSET, F_OP, F_RET, F_SIZE, F_SLOT, F_VCPU, FIELDS, OP, OPS, opCode, type TraceChunk } from './schema.js';

const ACCESS_PRESENT = (1 << F_OP) | (1 << F_VCPU) | (1 << F_GPA) | (1 << F_SIZE);

/**
 * How an access row written by pushAccess reads beyond its op, vcpu, gpa and size: whether the gpa and
 * size print as 0x hex (as a TraceRow's bigints do) and the ret outcome it carries, if any.
 */
export interface AccessForm {
  readonly present: number;
  readonly hex: number;
  readonly ret: number;
}

/** The form of the access rows push() stores for { op, vcpu, gpa, size[, ret] } (`hex`: gpa and size given as bigints). */
export function accessForm(hex: boolean, ret?: OutcomeName): AccessForm {
  return {
    present: ACCESS_PRESENT | (ret === undefined ? 0 : 1 << F_RET),
    hex: (hex ? (1 << F_GPA) | (1 << F_SIZE) : 0) | (ret === undefined ? 0 : SYMBOLIC_RET),
    ret: ret === undefined ? 0 : OUTCOME_NAMES.indexOf(ret),
  };
}

/** Decimal gpa and size, no ret: what scale's access rows have always been. */
const PLAIN_ACCESS = accessForm(false);

export class TraceBuilder {
  private chunk: TraceChunk;
  private readonly done: TraceChunk[] = [];
  private rows = 0;
  /** A chunk handed back by its consumer (reuse()), to be cleared and filled again. */
  private spare: TraceChunk | undefined;
  /**
   * Chunks that held a row other than pushAccess's: only these need every column zeroed for reuse.
   * A chunk of access rows only is reused without the memset (the cost of a whole chunk's bytes per
   * chunk, a tenth of `gen`'s time): its other columns are still zero, and every access column of a
   * row is written again, by pushAccess, or zeroed first by startRow (`stale`).
   */
  private readonly mixed = new WeakSet<TraceChunk>();
  /** The current chunk had a row through startRow. */
  private currentMixed = false;
  /** The current chunk is a reused one whose access columns still hold the last fill's values. */
  private stale = false;

  constructor(
    private readonly chunkRows: number = DEFAULT_CHUNK_ROWS,
    /** Named in error messages. */
    private readonly file: string = '<trace>',
    /** Called with each full chunk; when given, finish() returns only the last one(s) not yet handed out. */
    private readonly onChunk?: (chunk: TraceChunk) => void,
  ) {
    this.chunk = allocChunk(chunkRows, 0);
  }

  /** Rows accepted so far. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * One row as an object (importers, generators, tests): stored exactly as pushCells(rowCells(row))
   * would store it, with the same errors, but numbers go straight into the columns; only text cells
   * (symbolic flags, ret names, expect metrics) and values out of range take the cell-text path.
   */
  push(row: TraceRow, line?: number): void {
    const at = line ?? this.rows + 1;
    const op = opCode(row.op);
    if (op < 0) {
      this.pushCells(rowCells(row), at);
      return;
    }
    const i = this.startRow(op, at);
    try {
      storeRow(this.chunk, i, op, row);
    } catch (err) {
      this.rejectRow(i, at, err);
    }
    this.accept(i, at);
  }

  /**
   * One row as cell texts in column order (exactly FIELDS.length of them). Throws TraceError naming
   * the file, line and field; the builder is unchanged after an error.
   */
  pushCells(cells: readonly string[], line: number): void {
    const chunk = this.chunk;
    const i = chunk.length;
    if (cells.length !== FIELDS.length) {
      throw new TraceError(this.file, line, '', `expected ${FIELDS.length} columns (${FIELDS.join(',')}), found ${cells.length}`);
    }
    const op = opCode(cells[0]!);
    if (op < 0) {
      throw new TraceError(this.file, line, 'op', `unknown op '${cells[0]}' (expected one of ${OPS.join(', ')})`);
    }
    this.startRow(op, line);
    try {
      for (let f = 1; f < FIELDS.length; f++) {
        const text = cells[f]!;
        if (text !== '') parseCell(chunk, i, f, text);
      }
    } catch (err) {
      this.rejectRow(i, line, err);
    }
    this.accept(i, line);
  }

  /** Row i's cells are in: checks the row as a whole, then counts it (or forgets it and throws). */
  private accept(i: number, line: number): void {
    const chunk = this.chunk;
    const problem = rowProblem(chunk, i);
    if (problem !== undefined) {
      this.forgetRow(i);
      throw new TraceError(this.file, line, problem.field, problem.detail);
    }
    chunk.length = i + 1;
    this.rows++;
    if (chunk.length === chunkCapacity(chunk)) this.seal();
  }

  /**
   * One CSV data line, bytes[start, end) without its newline: pushCells of its cells, with the same
   * errors, reading each cell from the bytes (src/trace/byte-cells.ts). A cell may be quoted whole
   * ("0x1000", "log,ro"), as a spreadsheet writes it. Returns false, storing nothing, for any other use
   * of quotes (a doubled quote, text after a closing quote, no closing quote, a CR in a quoted line):
   * such a line is csv-parse's to read.
   */
  pushLineBytes(bytes: Buffer, start: number, end: number, line: number): boolean {
    const chunk = this.chunk;
    const i = this.claimRow();
    if (readPlainRow(chunk, i, bytes, start, end)) {
      chunk.line[i] = line;
      this.accept(i, line);
      return true;
    }
    const count = splitCells(bytes, start, end);
    if (count < 0) return false;
    const op = count === FIELDS.length ? opCodeOfBytes(bytes, CELL_START[0]!, CELL_END[0]!) : -1;
    if (op < 0) {
      const cells: string[] = [];
      for (let f = 0; f < Math.min(count, FIELDS.length); f++) cells.push(bytes.toString('utf8', CELL_START[f], CELL_END[f]));
      // Only the count matters past the last column (the error names it).
      while (cells.length < count) cells.push('');
      this.pushCells(cells, line);
      return true;
    }
    this.initRow(i, op, line); // claimed above
    try {
      for (let f = 1; f < FIELDS.length; f++) {
        if (CELL_END[f]! > CELL_START[f]!) parseCellBytes(chunk, i, f, bytes, CELL_START[f]!, CELL_END[f]!);
      }
    } catch (err) {
      this.rejectRow(i, line, err);
    }
    this.accept(i, line);
    return true;
  }

  /**
   * A guest access row written straight into the columns: what push() would store for
   * { op, vcpu, gpa: gfn * 4096, size: pages * 4096 } in `form` (accessForm), without the detour
   * through cell texts. For generators of very long traces. Valid by construction when `op` is an
   * access op, gfn < 2^40 and 1 <= pages < 2^28 (the row limit, src/trace/row.ts): checked here with
   * plain compares.
   */
  pushAccess(op: number, vcpu: number, gfn: number, pages: number, form: AccessForm = PLAIN_ACCESS): void {
    // Integer checks by plain compares ((x | 0) for pages < 2^28, >>> 0 for a u32): this runs per row.
    if (ACCESS_OPS[op] !== 1 || !(gfn >= 0 && gfn < 2 ** 40) || Math.floor(gfn) !== gfn || (pages | 0) !== pages || pages < 1 || pages >= 2 ** 28 || vcpu >>> 0 !== vcpu) {
      throw new RangeError(`pushAccess(${op}, ${vcpu}, ${gfn}, ${pages}): not a valid access row`);
    }
    const chunk = this.chunk;
    const i = chunk.length;
    chunk.op[i] = op;
    chunk.present[i] = form.present;
    chunk.hex[i] = form.hex;
    chunk.ret[i] = form.ret;
    chunk.line[i] = ++this.rows;
    chunk.vcpu[i] = vcpu;
    setGfn(chunk, i, gfn);
    chunk.sizeHi[i] = pages >>> 20;
    chunk.sizeLo[i] = (pages & 0xfffff) * 4096;
    chunk.length = i + 1;
    if (chunk.length === chunkCapacity(chunk)) this.seal();
  }

  /**
   * Takes back a chunk this builder handed out, once its consumer is done with it (written, counted):
   * the next chunk reuses its buffer instead of allocating one. Only for consumers that keep nothing.
   */
  reuse(chunk: TraceChunk): void {
    if (chunkCapacity(chunk) === this.chunkRows && chunk !== this.chunk && chunk.buffer.byteLength > 0) this.spare = chunk;
  }

  /** The next row's op column, and nothing else yet: returns its index in the chunk. */
  private startRow(op: number, line: number): number {
    return this.initRow(this.claimRow(), op, line);
  }

  /** Row i, claimed (claimRow()), gets its op column and line. */
  private initRow(i: number, op: number, line: number): number {
    const chunk = this.chunk;
    chunk.op[i] = op;
    chunk.present[i] = 1; // the op column
    chunk.hex[i] = 0;
    chunk.line[i] = line;
    return i;
  }

  /**
   * The next row, all zero, for a writer that stores only the columns its row has (startRow's cells,
   * readPlainRow): an absent field must read 0 (replay takes an absent vcpu or flags as 0). Zeroes what
   * a stale reused chunk still holds there, and marks the chunk to be zeroed whole when it is reused,
   * since such rows may leave any column set.
   */
  private claimRow(): number {
    const i = this.chunk.length;
    if (this.stale) clearAccessColumns(this.chunk, i);
    this.currentMixed = true;
    return i;
  }

  /** A cell of row i failed: forget the row and throw the error with the file, line and field. */
  private rejectRow(i: number, line: number, err: unknown): never {
    this.forgetRow(i);
    if (err instanceof CellError) throw new TraceError(this.file, line, err.field, err.message);
    throw err;
  }

  /**
   * Undo a rejected row. Its columns are zeroed too: readers such as replay take an absent field's
   * column as 0 (vcpu, flags), so a half-parsed row must not leave values behind for the next one.
   */
  private forgetRow(i: number): void {
    for (let f = 0; f < FIELDS.length; f++) this.chunk.verbatim.delete(i * 16 + f);
    for (const [name] of COLUMN_LAYOUT) (this.chunk[name] as Float64Array | Uint32Array | Uint16Array | Uint8Array)[i] = 0;
  }

  private seal(): void {
    const full = this.chunk;
    if (this.currentMixed) this.mixed.add(full);
    const spare = this.spare;
    const next = full.firstRow + full.length;
    if (spare === undefined) {
      this.chunk = allocChunk(this.chunkRows, next);
      this.stale = false;
    } else {
      const zero = this.mixed.delete(spare);
      this.chunk = cleared(spare, next, zero);
      this.stale = !zero;
    }
    this.currentMixed = false;
    this.spare = undefined;
    if (this.onChunk) this.onChunk(full);
    else this.done.push(full);
  }

  /** All chunks (or, with onChunk, the last partial chunk, handed to onChunk too). */
  finish(): TraceChunk[] {
    if (this.chunk.length > 0) this.seal();
    return this.done.splice(0);
  }
}

/** Scratch for splitCells: where a line's first cells start and end (quotes excluded). */
const CELL_START = new Int32Array(FIELDS.length);
const CELL_END = new Int32Array(FIELDS.length);

/**
 * The cells of bytes[start, end) into CELL_START/CELL_END (the first FIELDS.length of them): returns
 * how many there are, or -1 when the line uses quotes in any way but around a whole cell whose text
 * has no quote and no CR (what csv-parse reads the same way).
 */
function splitCells(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  let quoted = false;
  let cr = false;
  let k = start;
  for (;;) {
    let from = k;
    let to: number;
    if (k < end && bytes[k] === 34) {
      quoted = true;
      from = ++k;
      while (k < end && bytes[k] !== 34 && bytes[k] !== 13) k++;
      if (k === end || bytes[k] === 13) return -1;
      to = k++;
      if (k < end && bytes[k] !== 44) return -1;
    } else {
      for (; k < end; k++) {
        const c = bytes[k];
        if (c === 44) break;
        if (c === 34) return -1;
        if (c === 13) cr = true;
      }
      to = k;
    }
    if (count < FIELDS.length) {
      CELL_START[count] = from;
      CELL_END[count] = to;
    }
    count++;
    if (k >= end) return quoted && cr ? -1 : count;
    k++; // the comma
  }
}

const U64_LIMIT = 1n << 64n;
/**
 * Row i's fields from a TraceRow, in column order (so the first bad one is the one reported). What
 * rowCells would print and parseCell then store: a bigint is 0x hex (canonical, so never verbatim), an
 * integer number decimal; a text in flags, attrs or ret as parseCell stored it the first time
 * (./text-cells.ts); anything else goes through parseCell with that very text.
 */
function storeRow(chunk: TraceChunk, i: number, op: number, row: TraceRow): void {
  const cells = ROW_CELLS;
  cells[F_VCPU] = row.vcpu;
  cells[F_GPA] = row.gpa;
  cells[F_SIZE] = row.size;
  cells[F_SLOT] = row.slot;
  cells[F_FLAGS] = op === OP.expect && typeof row.flags === 'bigint' ? rowCellText(row.flags) : row.flags;
  cells[F_HVA] = row.hva;
  cells[F_FD] = row.fd;
  cells[F_OFFSET] = row.offset;
  cells[F_ATTRS] = row.attrs;
  cells[F_RET] = row.ret;
  for (let f = 1; f < FIELDS.length; f++) {
    const v = cells[f];
    if (v === undefined) continue;
    if (typeof v === 'bigint' && IS_U64_FIELD[f] === 1 && v >= 0n && v < U64_LIMIT) {
      setU64(hiColumn(chunk, f), loColumn(chunk, f), i, v);
      chunk.hex[i]! |= 1 << f;
      chunk.present[i]! |= 1 << f;
    } else if (typeof v === 'number' && f === F_RET && Number.isSafeInteger(v)) {
      chunk.ret[i] = v === 0 ? 0 : v; // never -0: String(-0) is '0'
      chunk.present[i]! |= 1 << f;
    } else if (typeof v === 'number' && IS_U32_FIELD[f] === 1 && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      u32Column(chunk, f)[i] = v;
      chunk.present[i]! |= 1 << f;
    } else if (typeof v === 'string' && v !== '' && isMemoizedText(op, f)) {
      storeText(chunk, i, op, f, v);
    } else {
      const text = rowCellText(v);
      if (text !== '') parseCell(chunk, i, f, text);
    }
  }
}

/** Scratch for storeRow: a row's values by field id. */
const ROW_CELLS: Array<bigint | number | string | undefined> = new Array(FIELDS.length).fill(undefined);

/** By field id: 1 for the two-column 64-bit fields, and for the u32 ones. */
const IS_U64_FIELD = Uint8Array.from(FIELDS, (_, f) => (f === F_GPA || f === F_SIZE || f === F_FLAGS || f === F_HVA || f === F_OFFSET || f === F_ATTRS ? 1 : 0));
const IS_U32_FIELD = Uint8Array.from(FIELDS, (_, f) => (f === F_VCPU || f === F_SLOT || f === F_FD ? 1 : 0));

function u32Column(chunk: TraceChunk, f: number): Uint32Array {
  return f === F_VCPU ? chunk.vcpu : f === F_SLOT ? chunk.slot : chunk.fd;
}

/**
 * `chunk` emptied to start at row `firstRow`: no side tables, and with `zero` every column zeroed
 * (without, the caller knows which columns still hold values: TraceBuilder's `stale`).
 */
function cleared(chunk: TraceChunk, firstRow: number, zero: boolean): TraceChunk {
  if (zero) new Uint8Array(chunk.buffer).fill(0);
  chunk.verbatim.clear();
  chunk.names.length = 0;
  chunk.length = 0;
  chunk.firstRow = firstRow;
  return chunk;
}

/** Zeroes row i's columns that pushAccess writes and startRow does not (a stale reused chunk's). */
function clearAccessColumns(chunk: TraceChunk, i: number): void {
  chunk.ret[i] = 0;
  chunk.vcpu[i] = 0;
  chunk.gpaHi[i] = 0;
  chunk.gpaLo[i] = 0;
  chunk.sizeHi[i] = 0;
  chunk.sizeLo[i] = 0;
}

/**
 * Sets row i's gpa to gfn * 4096 (gfn < 2^40): the high word holds gfn's bits above 20, the low word
 * the rest shifted by 12.
 */
export function setGfn(chunk: TraceChunk, i: number, gfn: number): void {
  // A subtraction, not gfn % 2^20: above 2^31 that is a floating-point remainder, the slowest step.
  const hi = Math.floor(gfn / 0x100000);
  chunk.gpaHi[i] = hi;
  chunk.gpaLo[i] = (gfn - hi * 0x100000) * 4096;
}

/**
 * Rows to chunks as they come: a chunk is handed on as soon as it fills, so a consumer that writes or
 * replays each one holds a chunk at a time, however many rows there are. With `reuse`, the consumer
 * keeps nothing of a chunk once it asks for the next, and its buffer is filled again.
 */
export function* chunksOf(rows: Iterable<TraceRow>, file?: string, chunkRows?: number, reuse = false): Generator<TraceChunk> {
  const ready: TraceChunk[] = [];
  const builder = new TraceBuilder(chunkRows, file, (chunk) => ready.push(chunk));
  for (const row of rows) {
    builder.push(row);
    if (ready.length > 0) {
      const chunk = ready.pop()!;
      yield chunk;
      if (reuse) builder.reuse(chunk);
    }
  }
  builder.finish();
  yield* ready.splice(0);
}

/**
 * The chunks `ready` in order, each taken off the list as it goes out; each one, once the consumer
 * asks for the next (it is done with it), goes back to `reuser` (ChunkOptions.reuse) to be filled
 * again. A builder's chunks as its onChunk callback queued them.
 */
export function* handOut(ready: TraceChunk[], reuser?: { reuse(chunk: TraceChunk): void }): Generator<TraceChunk> {
  while (ready.length > 0) {
    const chunk = ready.shift()!;
    yield chunk;
    reuser?.reuse(chunk);
  }
}
