// Rows in, columnar chunks out. The CSV reader feeds cell texts; importers, generators and tests feed
// TraceRow objects. Every row is validated here, once, so nothing downstream re-checks it.

import { CellError, parseCell } from './cells.js';
import { allocChunk, chunkCapacity, COLUMN_LAYOUT, DEFAULT_CHUNK_ROWS } from './chunk.js';
import { TraceError } from '../errors.js';
import { rowCells, rowProblem, type TraceRow } from './row.js';
import { FIELDS, OPS, opCode, type TraceChunk } from './schema.js';

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
