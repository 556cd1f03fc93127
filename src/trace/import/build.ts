// Imported rows -> validated chunks. A row the trace format rejects (a value out of range, say) is
// reported against the line of the recording it came from, like any other bad line.

import { TraceBuilder } from '../builder.js';
import { TraceError } from '../../errors.js';
import type { TraceChunk } from '../schema.js';
import type { ImportedRow, ImportWarning } from './result.js';

export function buildChunks(rows: readonly ImportedRow[], file: string): { chunks: TraceChunk[]; warnings: ImportWarning[] } {
  const builder = new TraceBuilder(undefined, file);
  const warnings: ImportWarning[] = [];
  for (const r of rows) pushImported(builder, r, warnings);
  return { chunks: builder.finish(), warnings };
}

/** One imported row into `builder`; a row the format rejects becomes a warning on its line. */
export function pushImported(builder: TraceBuilder, r: ImportedRow, warnings: ImportWarning[]): void {
  try {
    builder.push(r.row, r.line);
  } catch (err) {
    if (!(err instanceof TraceError)) throw err;
    warnings.push({ line: r.line, message: `${err.field ? `field ${err.field}: ` : ''}${err.detail}` });
  }
}
