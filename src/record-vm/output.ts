// Rows to a trace file as they come, in bounded memory. The metadata (duration, counts, what the
// recorder could not see) is only known at the end, and both formats put it first: rows go to a
// temporary .s2t beside the output as chunks fill, and the end copies them, chunk by chunk, into the
// real output (.csv or .s2t) under the complete metadata.

import { rm } from 'node:fs/promises';
import { TraceBuilder } from '../trace/builder.js';
import { openTrace, writeTrace } from '../trace/io.js';
import type { TraceRow } from '../trace/row.js';
import { S2tWriter } from '../trace/s2t.js';
import type { TraceChunk, TraceMeta } from '../trace/schema.js';

export class StreamingTraceOutput {
  private readonly pending: TraceChunk[] = [];
  private readonly builder: TraceBuilder;
  private readonly temp: string;

  private constructor(
    private readonly path: string,
    private readonly writer: S2tWriter,
    temp: string,
    chunkRows: number | undefined,
  ) {
    this.temp = temp;
    this.builder = new TraceBuilder(chunkRows, path, (chunk) => this.pending.push(chunk));
  }

  static async create(path: string, chunkRows?: number): Promise<StreamingTraceOutput> {
    const temp = `${path}.rows-${process.pid}.s2t`;
    const writer = await S2tWriter.create(temp, { comments: [], fields: {} });
    return new StreamingTraceOutput(path, writer, temp, chunkRows);
  }

  get rowCount(): number {
    return this.builder.rowCount;
  }

  /** Validates the row (TraceError on a bad one); it is written at the next flush(). */
  push(row: TraceRow): void {
    this.builder.push(row);
  }

  /** Chunks are waiting for flush(). */
  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** Writes the chunks filled so far. */
  async flush(): Promise<void> {
    while (this.pending.length > 0) await this.writer.writeChunk(this.pending.shift()!);
  }

  /** The last rows, then the output under `meta`; the temporary file is removed either way. */
  async finish(meta: TraceMeta): Promise<void> {
    try {
      this.builder.finish();
      await this.flush();
      await this.writer.close();
      const rows = await openTrace(this.temp);
      try {
        await writeTrace(this.path, meta, rows.chunks());
      } finally {
        await rows.close();
      }
    } finally {
      await rm(this.temp, { force: true });
    }
  }

  async abort(): Promise<void> {
    await this.writer.abort();
    await rm(this.temp, { force: true });
  }
}
