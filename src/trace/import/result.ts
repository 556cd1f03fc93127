// What an importer hands back: trace rows with their source line (and time, when the recording has
// timestamps, so two recordings of one run can be merged), plus an account of every line it did not
// turn into a row. Importers never throw on a bad line; the CLI decides (warn, or fail with --strict).

import type { TraceRow } from '../row.js';
import { TRACE_MAGIC_LINE, type TraceMeta } from '../schema.js';

export interface ImportedRow {
  row: TraceRow;
  /** 1-based line of the recording this row came from. */
  line: number;
  /** Seconds (any epoch, consistent within one recording); absent when the recording has no timestamps. */
  time?: number;
}

export interface ImportWarning {
  line: number;
  message: string;
}

export interface ImportStats {
  /** Lines read (including blank ones). */
  lines: number;
  /** Rows produced. */
  rows: number;
  /** Lines that were understood but carry nothing the model replays (other syscalls, other events). */
  skipped: number;
  /** Lines that could not be parsed or imported; each has a warning. */
  bad: number;
}

/** Warnings as `FILE:LINE: message` lines, the form compilers use so editors can jump to them. */
export function formatWarnings(file: string, warnings: readonly ImportWarning[]): string {
  return warnings.map((w) => `${file}:${w.line}: ${w.message}\n`).join('');
}

/** Trace metadata from `key: value` pairs, in order, after the format's magic line. */
export function importMeta(fields: ReadonlyArray<readonly [string, string]>): TraceMeta {
  return {
    comments: [TRACE_MAGIC_LINE, ...fields.map(([k, v]) => `# ${k}: ${v}`)],
    fields: Object.fromEntries(fields),
  };
}

/** The lines of a text, without a last empty one after a final newline. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Line by line, for recordings too big to hold as one string (strace of a long run is gigabytes). */
export interface LineImporter<T> {
  feed(line: string): void;
  finish(): T;
}
