// One imported trace written as its rows come: rows are validated into chunks (a row the format
// rejects becomes a warning on its recording line) and each full chunk goes to a temporary file,
// renamed into place only once the whole import has succeeded. What is held is the chunk being filled.

import { TraceBuilder } from '../builder.js';
import { TraceFileWriter } from '../io.js';
import type { TraceChunk, TraceMeta } from '../schema.js';
import { pushImported } from './build.js';
import type { ImportedRow, ImportWarning } from './result.js';

export class ImportOutput {
  readonly warnings: ImportWarning[] = [];
  private readonly ready: TraceChunk[] = [];
  private readonly builder: TraceBuilder;
  private writer: TraceFileWriter | undefined;

  /**
   * `path` names the temporary file's place and the output's kind (commit() may rename it elsewhere);
   * `source` is the recording the rows came from, named in the format's errors.
   */
  constructor(
    private readonly path: string,
    private readonly meta: TraceMeta,
    source: string,
  ) {
    this.builder = new TraceBuilder(undefined, source, (chunk) => this.ready.push(chunk));
  }

  /** Rows accepted so far. */
  get rowCount(): number {
    return this.builder.rowCount;
  }

  push(row: ImportedRow): void {
    pushImported(this.builder, row, this.warnings);
  }

  /** A chunk is full and waits for write(). */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** Opens the file on first use (so even a trace with no rows gets one) and writes the full chunks. */
  async write(): Promise<void> {
    this.writer ??= await TraceFileWriter.create(this.path, this.meta);
    while (this.ready.length > 0) await this.writer.writeChunk(this.ready.shift()!);
  }

  /** The last rows, written; the file stays temporary until commit(). */
  async finish(): Promise<void> {
    this.builder.finish();
    await this.write();
  }

  async commit(final: string): Promise<void> {
    await this.writer!.commit(final);
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}
