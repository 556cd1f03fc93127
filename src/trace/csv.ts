// Trace CSV text: line by line into a TraceBuilder (bounded memory: only the current chunk is held),
// and chunks back to canonical text. Canonical lines have no quotes and split on commas; so do lines
// whose quotes only wrap whole cells (TraceBuilder.pushLineBytes); any other line with a quote goes
// through csv-parse, which knows every corner of RFC 4180. Files come as bytes (src/trace/csv-file.ts):
// a data row's cells go from the bytes to the columns without a string.

import { parse as parseCsvSync } from 'csv-parse/sync';
import { renderCell } from './cells.js';
import { TraceBuilder } from './builder.js';
import type { ChunkOptions } from './chunk.js';
import { TraceError } from '../errors.js';
import { FIELDS, F_FLAGS, OP, OPS, TRACE_MAGIC_LINE, TRACE_VERSION, type TraceChunk, type TraceMeta } from './schema.js';

export const HEADER_LINE = FIELDS.join(',');
const VERSION_LINE = /^#\s*s2bench trace v(\d+)\s*$/;
const META_FIELD = /^#\s*([A-Za-z][\w.-]*)\s*:\s*(.*?)\s*$/;

/** With `reuse`, onChunk keeps nothing of a chunk once it returns: the next chunk fills its buffer again. */
export interface CsvReadOptions extends ChunkOptions {
  file: string;
  chunkRows?: number;
  /** Keep going after a bad row and collect every problem (for `validate`); otherwise throw the first. */
  collectErrors?: boolean;
  /** Receives each full chunk as soon as it is built (streaming); otherwise chunks are returned. */
  onChunk?: (chunk: TraceChunk) => void;
  /** Called once the header row has been read, with the metadata above it. */
  onMeta?: (meta: TraceMeta) => void;
}

export interface CsvReadResult {
  meta: TraceMeta;
  chunks: TraceChunk[];
  /** Every problem, or the first MAX_FILE_ERRORS when `stoppedEarly`. */
  errors: TraceError[];
  /** Reading stopped at MAX_FILE_ERRORS problems: the rest of the file was not checked. */
  stoppedEarly: boolean;
  rows: number;
}

/**
 * Problems collected per file (`validate`) before it stops reading that file: a file of fifty
 * million bad lines (one unclosed quote makes every line after it bad) would otherwise take minutes
 * and hold gigabytes of errors.
 */
export const MAX_FILE_ERRORS = 1000;

export function newMeta(): TraceMeta {
  return { comments: [], fields: {} };
}

function addComment(meta: TraceMeta, text: string, file: string, line: number): void {
  meta.comments.push(text);
  const version = VERSION_LINE.exec(text);
  if (version) {
    if (Number(version[1]) !== TRACE_VERSION) {
      throw new TraceError(file, line, '', `trace format v${version[1]} is not supported (this s2bench reads v${TRACE_VERSION})`);
    }
    return;
  }
  const field = META_FIELD.exec(text);
  if (field) meta.fields[field[1]!] = field[2]!;
}

/**
 * The cells of a data line with a quote, through csv-parse (lines without quotes, or with cells quoted
 * whole, are split by TraceBuilder.pushLineBytes). A line that csv-parse rejects (an unclosed quote, text before an opening
 * quote, a cell that would run onto the next line) is the trace's fault: its message is re-anchored at
 * the file's own line, since csv-parse only ever sees this one line.
 */
function splitQuoted(text: string, file: string, line: number): string[] {
  let records: string[][];
  try {
    records = parseCsvSync(text, { relax_column_count: true, record_delimiter: '\n' }) as string[][];
  } catch (err) {
    throw new TraceError(file, line, '', `malformed quoted CSV: ${csvParseReason(err)}`);
  }
  if (records.length !== 1) throw new TraceError(file, line, '', `malformed quoted CSV: expected one row, found ${records.length}`);
  return records[0]!;
}

/** csv-parse's reason without its own position ("at line 1"), which is meaningless here. */
function csvParseReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*(at|on) line \d+\b/g, '').replace(/^[A-Za-z ]+:\s*/, (m) => m.toLowerCase());
}

/**
 * A CSV trace, one line at a time: `#` lines before the header are metadata, the header row is
 * checked, data rows go to a TraceBuilder. Holds only the chunk being built.
 */
export class CsvTraceParser {
  readonly meta: TraceMeta = newMeta();
  readonly errors: TraceError[] = [];
  /** MAX_FILE_ERRORS problems collected: feed() reads no further. */
  stoppedEarly = false;
  private readonly builder: TraceBuilder;
  private lineNo = 0;
  private sawAnything = false;
  headerSeen = false;

  constructor(private readonly options: CsvReadOptions) {
    const { onChunk } = options;
    const passOn = onChunk && options.reuse ? (chunk: TraceChunk) => (onChunk(chunk), this.reuse(chunk)) : onChunk;
    this.builder = new TraceBuilder(options.chunkRows, options.file, passOn);
  }

  get rows(): number {
    return this.builder.rowCount;
  }

  /**
   * Takes back a chunk this parser handed out, once its consumer keeps nothing of it (ChunkOptions.reuse):
   * the next chunk is filled into its buffer.
   */
  reuse(chunk: TraceChunk): void {
    this.builder.reuse(chunk);
  }

  /** A problem: thrown, or collected (up to MAX_FILE_ERRORS, then reading stops). */
  fail(err: TraceError): void {
    if (!this.options.collectErrors) throw err;
    this.errors.push(err);
    if (this.errors.length >= MAX_FILE_ERRORS) this.stoppedEarly = true;
  }

  /** Lines fed so far (blank and comment lines too). */
  get linesRead(): number {
    return this.lineNo;
  }

  /**
   * One line of a file, bytes[start, end) without its newline. Returns false once the input cannot be
   * read further. A data row after the header goes straight from the bytes to the builder; any other
   * line (metadata, the header, a quoted row, a BOM) is decoded and read by feed().
   */
  feedLine(bytes: Buffer, start: number, end: number): boolean {
    const first = bytes[start]!;
    // An op name, or a quoted one.
    if (this.headerSeen && ((first >= 97 && first <= 122) || first === 34)) {
      const lineNo = this.lineNo + 1;
      let pushed = true;
      try {
        // A CRLF line's CR is not part of its last cell.
        pushed = this.builder.pushLineBytes(bytes, start, bytes[end - 1] === 13 ? end - 1 : end, lineNo);
      } catch (err) {
        if (!(err instanceof TraceError)) throw err;
        this.lineNo = lineNo;
        this.sawAnything = true;
        this.fail(err);
      }
      if (pushed) {
        this.lineNo = lineNo;
        this.sawAnything = true;
        return !this.stoppedEarly;
      }
    }
    return this.feed(bytes.toString('utf8', start, end));
  }

  /** One line without its newline (text). Returns false once the input cannot be read further. */
  feed(text: string): boolean {
    const { file } = this.options;
    const lineNo = ++this.lineNo;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim() === '') return true;
    this.sawAnything = true;
    if (text.startsWith('#')) {
      if (!this.headerSeen) addComment(this.meta, text, file, lineNo);
      else (this.meta.bodyComments ??= []).push({ row: this.builder.rowCount, text });
      return true;
    }
    if (!this.headerSeen) {
      if (text.replace(/\s/g, '') !== HEADER_LINE) {
        this.fail(new TraceError(file, lineNo, '', `header row missing: expected '${HEADER_LINE}', found '${text.slice(0, 80)}'`));
        return false;
      }
      this.headerSeen = true;
      this.options.onMeta?.(this.meta);
      return true;
    }
    try {
      const bytes = text.indexOf('"') < 0 ? Buffer.from(text) : undefined;
      if (bytes === undefined || !this.builder.pushLineBytes(bytes, 0, bytes.length, lineNo)) {
        this.builder.pushCells(splitQuoted(text, file, lineNo), lineNo);
      }
    } catch (err) {
      if (err instanceof TraceError) this.fail(err);
      else throw err;
    }
    return !this.stoppedEarly;
  }

  /** End of input: the last chunk(s), and the empty-file / no-header checks. */
  finish(): TraceChunk[] {
    const { file } = this.options;
    if (!this.sawAnything) this.fail(new TraceError(file, 0, '', 'empty file: expected a trace (# s2bench trace v1, then the header row)'));
    else if (!this.headerSeen && this.errors.length === 0) this.fail(new TraceError(file, this.lineNo, '', `header row missing: expected '${HEADER_LINE}'`));
    return this.builder.finish();
  }
}

/** Reads lines (without their newline) of a CSV trace. */
export async function readCsvLines(lines: AsyncIterable<string> | Iterable<string>, options: CsvReadOptions): Promise<CsvReadResult> {
  const parser = new CsvTraceParser(options);
  if (Array.isArray(lines)) {
    // In-memory text (tests, generators): no await per line.
    for (const text of lines as string[]) if (!parser.feed(text)) break;
  } else {
    for await (const text of lines) if (!parser.feed(text)) break;
  }
  const chunks = parser.finish();
  return { meta: parser.meta, chunks, errors: parser.errors, stoppedEarly: parser.stoppedEarly, rows: parser.rows };
}

/** Metadata lines and the header row, each ending in a newline. */
export function formatCsvHead(meta: TraceMeta): string {
  const comments = meta.comments.length > 0 ? meta.comments : [TRACE_MAGIC_LINE];
  return comments.map((c) => `${c}\n`).join('') + `${HEADER_LINE}\n`;
}

/** The data lines of one chunk (with any comments that stood between them), each ending in a newline. */
export function formatCsvChunk(chunk: TraceChunk, meta: TraceMeta): string {
  const comments = meta.bodyComments ?? [];
  let next = firstCommentAtOrAfter(comments, chunk.firstRow);
  let out = '';
  const cells = new Array<string>(FIELDS.length);
  for (let i = 0; i < chunk.length; i++) {
    const row = chunk.firstRow + i;
    while (next < comments.length && comments[next]!.row === row) out += `${comments[next++]!.text}\n`;
    cells[0] = OPS[chunk.op[i]!]!;
    for (let f = 1; f < FIELDS.length; f++) cells[f] = renderCell(chunk, i, f);
    // An expect row's metric name is free text (it may have come from a quoted cell).
    if (chunk.op[i] === OP.expect) cells[F_FLAGS] = quoteCell(cells[F_FLAGS]!);
    out += cells.join(',') + '\n';
  }
  return out;
}

/** Comments after the last row. */
export function formatCsvTail(meta: TraceMeta, rows: number): string {
  const comments = meta.bodyComments ?? [];
  return comments.filter((c) => c.row >= rows).map((c) => `${c.text}\n`).join('');
}

/** RFC 4180 quoting, only when the text needs it. */
function quoteCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function firstCommentAtOrAfter(comments: ReadonlyArray<{ row: number }>, row: number): number {
  let i = 0;
  while (i < comments.length && comments[i]!.row < row) i++;
  return i;
}
