// From rows to recorded traces and back to the model: record sequences on the real kernel, fill their
// `ret` cells, and replay them with check to list where the model and Linux disagree.

import { DEFAULT_PROFILE_NAME } from '../core/profile.js';
import { TraceBuilder } from '../trace/builder.js';
import { formatTraceText, parseTraceText } from '../trace/io.js';
import type { TraceRow } from '../trace/row.js';
import { TRACE_MAGIC_LINE, type TraceChunk, type TraceMeta } from '../trace/schema.js';
import { replayTrace, type Divergence } from '../replay/engine.js';
import { fillRets } from './protocol.js';
import { probeKvm, recordSequences } from './recorder.js';

export interface RecordedTrace {
  meta: TraceMeta;
  chunks: TraceChunk[];
  /** Rows (0-based) left without a ret, and why (an exit the format has no name for, an op not done here). */
  unrecorded: Array<{ row: number; why: string }>;
  /** The recorder could not run the sequence at all. */
  failure?: string;
}

/** Metadata of a recorded trace: version line, kernel, source, plus any extra comment lines. */
export function recordedMeta(source: string, extra: readonly string[] = []): TraceMeta {
  const host = probeKvm();
  // The recorder runs on x86 hosts, whose answers the default profile models (docs/trace-format.md, "ret").
  const fields: Record<string, string> = { arch: 'x86_64', kernel: host.kernel, source, 'recorded-under': DEFAULT_PROFILE_NAME };
  return {
    comments: [
      TRACE_MAGIC_LINE,
      '# arch: x86_64',
      `# kernel: ${host.kernel}`,
      `# source: ${source}`,
      `# recorded-under: ${DEFAULT_PROFILE_NAME}`,
      ...extra.map((c) => `# ${c}`),
    ],
    fields,
  };
}

export function rowsToChunks(rows: readonly TraceRow[], file = '<rows>'): TraceChunk[] {
  // Chunks sized to the sequence: fuzz sequences are short, and a default chunk is 64K rows.
  const builder = new TraceBuilder(Math.max(rows.length, 1), file);
  rows.forEach((row, i) => builder.push(row, i + 1));
  return builder.finish();
}

/** Records already-built traces (their ret cells are replaced by the kernel's answers). */
export function recordChunks(traces: ReadonlyArray<{ meta: TraceMeta; chunks: TraceChunk[] }>): RecordedTrace[] {
  const answers = recordSequences(traces.map((t) => t.chunks));
  return traces.map((t, k) => {
    const answer = answers[k]!;
    if (answer.failure !== undefined) return { meta: t.meta, chunks: t.chunks, unrecorded: [], failure: answer.failure };
    const unrecorded = fillRets(t.chunks, answer.rows);
    // A re-recorded trace gets fresh `# recorder:` notes, not a second copy of the old ones.
    const kept = (t.meta.bodyComments ?? []).filter((c) => !c.text.startsWith('# recorder:'));
    const meta: TraceMeta = { ...t.meta, bodyComments: kept };
    for (const u of unrecorded) meta.bodyComments!.push({ row: u.row + 1, text: `# recorder: row above has no ret: ${u.why}` });
    meta.bodyComments!.sort((a, b) => a.row - b.row);
    return { meta, chunks: t.chunks, unrecorded };
  });
}

/** Records row sequences, one fresh VM each. */
export function recordRows(sequences: ReadonlyArray<readonly TraceRow[]>, source: (index: number) => string): RecordedTrace[] {
  return recordChunks(sequences.map((rows, k) => ({ meta: recordedMeta(source(k)), chunks: rowsToChunks(rows) })));
}

export function recordedText(trace: RecordedTrace): string {
  return formatTraceText(trace.meta, trace.chunks);
}

/** The model's divergences from a recorded trace (replayed from its text, so lines are the file's). */
export async function modelDivergences(trace: RecordedTrace): Promise<Divergence[]> {
  const rows = trace.chunks.reduce((n, c) => n + c.length, 0);
  const loaded = await parseTraceText(recordedText(trace), '<recorded>', Math.max(rows, 1));
  return replayTrace(loaded, undefined, { check: true }).divergences;
}
