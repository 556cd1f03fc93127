// Rows in, columnar chunks out. The CSV reader feeds cell texts; importers, generators and tests feed
// TraceRow objects. Every row is validated here, once, so nothing downstream re-checks it.

import { CellError, parseCell } from './cells.js';
import { allocChunk, chunkCapacity, COLUMN_LAYOUT, DEFAULT_CHUNK_ROWS } from './chunk.js';
import { TraceError } from '../errors.js';
import { rowCells, rowProblem, type TraceRow } from './row.js';
import { F_GPA, F_OP, F_SIZE, F_VCPU, FIELDS, OP_SPECS, OPS, opCode, type TraceChunk } from './schema.js';

/** By op code: 1 for guest accesses (the ops pushAccess writes). */
const ACCESS_OPS = Uint8Array.from(OP_SPECS, (spec) => (spec.access === undefined ? 0 : 1));
const ACCESS_PRESENT = (1 << F_OP) | (1 << F_VCPU) | (1 << F_GPA) | (1 << F_SIZE);

export class TraceBuilder {
  private chunk: TraceChunk;
  private readonly done: TraceChunk[] = [];
  private rows = 0;

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

  push(row: TraceRow, line?: number): void {
    this.pushCells(rowCells(row), line ?? this.rows + 1);
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
    chunk.op[i] = op;
    chunk.present[i] = 1; // the op column
    chunk.hex[i] = 0;
    chunk.line[i] = line;
    try {
      for (let f = 1; f < FIELDS.length; f++) {
        const text = cells[f]!;
        if (text !== '') parseCell(chunk, i, f, text);
      }
    } catch (err) {
      this.forgetRow(i);
      if (err instanceof CellError) throw new TraceError(this.file, line, err.field, err.message);
      throw err;
    }
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
   * A guest access row written straight into the columns: what push() would store for
   * { op, vcpu, gpa: gfn * 4096, size: pages * 4096 }, without the detour through cell texts. For
   * generators of very long traces. Valid by construction when `op` is an access op, gfn < 2^40 and
   * 1 <= pages < 2^28 (the row limit, src/trace/row.ts): checked here with plain compares.
   */
  pushAccess(op: number, vcpu: number, gfn: number, pages: number): void {
    if (ACCESS_OPS[op] !== 1 || !(gfn >= 0 && gfn < 2 ** 40) || !(pages >= 1 && pages < 2 ** 28) || !(vcpu >= 0 && vcpu < 2 ** 32)) {
      throw new RangeError(`pushAccess(${op}, ${vcpu}, ${gfn}, ${pages}): not a valid access row`);
    }
    const chunk = this.chunk;
    const i = chunk.length;
    chunk.op[i] = op;
    chunk.present[i] = ACCESS_PRESENT;
    chunk.line[i] = ++this.rows;
    chunk.vcpu[i] = vcpu;
    // gpa = gfn * 4096: the high word holds gfn's bits above 20, the low word the rest shifted by 12.
    chunk.gpaHi[i] = Math.floor(gfn / 0x100000);
    chunk.gpaLo[i] = (gfn % 0x100000) * 4096;
    chunk.sizeHi[i] = Math.floor(pages / 0x100000);
    chunk.sizeLo[i] = (pages % 0x100000) * 4096;
    chunk.length = i + 1;
    if (chunk.length === chunkCapacity(chunk)) this.seal();
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
    this.chunk = allocChunk(this.chunkRows, full.firstRow + full.length);
    if (this.onChunk) this.onChunk(full);
    else this.done.push(full);
  }

  /** All chunks (or, with onChunk, the last partial chunk, handed to onChunk too). */
  finish(): TraceChunk[] {
    if (this.chunk.length > 0) this.seal();
    return this.done.splice(0);
  }
}

/**
 * Rows to chunks as they come: a chunk is handed on as soon as it fills, so a consumer that writes or
 * replays each one holds a chunk at a time, however many rows there are.
 */
export function* chunksOf(rows: Iterable<TraceRow>, file?: string, chunkRows?: number): Generator<TraceChunk> {
  const ready: TraceChunk[] = [];
  const builder = new TraceBuilder(chunkRows, file, (chunk) => ready.push(chunk));
  for (const row of rows) {
    builder.push(row);
    if (ready.length > 0) yield ready.pop()!;
  }
  builder.finish();
  yield* ready.splice(0);
}
