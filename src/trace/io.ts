// Reading and writing traces by file extension (.csv text, .s2t binary). Streaming throughout: a
// reader holds one chunk at a time, and writers go to a temporary file renamed into place at the end,
// so an interrupted conversion never leaves half a trace under the real name.

import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, TraceError, UsageError } from '../errors.js';
import { handOut } from './builder.js';
import { CsvTraceParser, formatCsvChunk, formatCsvHead, formatCsvTail, readCsvLines, type CsvReadResult } from './csv.js';
import { feedCsvFile } from './csv-file.js';
import { DEFAULT_MAX_EVENTS } from './max-events.js';
import { openS2t, S2tWriter, type S2tWriteOptions } from './s2t.js';
import type { TraceChunk, TraceMeta } from './schema.js';
import type { ChunkOptions } from './chunk.js';

export type { ChunkOptions } from './chunk.js';

export { MAX_LINE_CHARS } from './csv-file.js';

export type TraceKind = 'csv' | 's2t';

export function traceKind(path: string): TraceKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.s2t') return 's2t';
  throw new UsageError(`${path}: unknown trace extension '${ext}' (expected .csv or .s2t)`);
}

export interface OpenTrace {
  meta: TraceMeta;
  /** The chunks, read lazily. Call once. */
  chunks(options?: ChunkOptions): AsyncIterable<TraceChunk>;
  /**
   * Releases what the reader holds. Nothing is held between openTrace and chunks(), and chunks() lets
   * go of the file when iteration ends or is broken off; this is for readers that may hold more.
   */
  close(): Promise<void>;
}

export interface LoadedTrace {
  meta: TraceMeta;
  chunks: TraceChunk[];
}

/** Opens an input file; a missing or unreadable file is the user's error, not a crash. */
export async function openInput(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`${path}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new InputError(`${path}: permission denied`);
    if (code === 'EISDIR') throw new InputError(`${path}: is a directory, expected a trace file`);
    throw err;
  }
}

/** Opens a trace: the metadata now, the chunks as they are read. */
export async function openTrace(path: string, chunkRows?: number): Promise<OpenTrace> {
  if (traceKind(path) === 's2t') {
    await (await openInput(path)).close();
    // The s2t reader holds no file between header and chunks: each chunks() pass opens its own.
    const reader = await openS2t(path);
    return { meta: reader.meta, chunks: (options) => reader.chunks(options), close: async () => {} };
  }
  const ready: TraceChunk[] = [];
  const parser = new CsvTraceParser({ file: path, ...(chunkRows ? { chunkRows } : {}), onChunk: (c) => ready.push(c) });
  // Read up to the header so that the metadata is known before any chunk is asked for, then let go of
  // the file: callers often want the metadata alone. chunks() reopens it and skips what was read.
  for await (const _ of feedCsvFile(await openInput(path), path, parser, { untilHeader: true }));
  if (!parser.headerSeen) parser.finish(); // empty file or no header row: throws
  const consumed = parser.linesRead;
  return {
    meta: parser.meta,
    async *chunks(options) {
      const reuse = options?.reuse === true;
      for await (const _ of feedCsvFile(await openInput(path), path, parser, { skipLines: consumed })) {
        yield* handOut(ready, reuse ? parser : undefined);
      }
      parser.finish();
      yield* handOut(ready, reuse ? parser : undefined);
    },
    close: async () => {},
  };
}

export interface ReadTraceOptions {
  /** Stop with an InputError once the trace has more events than this (default DEFAULT_MAX_EVENTS). */
  maxEvents?: number;
}

/** The whole trace in memory (fine for the few-MB traces of a suite; stream big ones). */
export async function readTrace(path: string, chunkRows?: number, options: ReadTraceOptions = {}): Promise<LoadedTrace> {
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const trace = await openTrace(path, chunkRows);
  const chunks: TraceChunk[] = [];
  let events = 0;
  for await (const chunk of trace.chunks()) {
    events += chunk.length;
    if (events > maxEvents) {
      throw new InputError(`${path}: more than ${maxEvents} events: replay holds the whole trace in memory (about 77 bytes an event); raise --max-events or split the trace`);
    }
    chunks.push(chunk);
  }
  return { meta: trace.meta, chunks };
}

/** Every problem in a trace file, not just the first (CSV); an .s2t stops at its first problem. */
export async function validateTraceFile(path: string): Promise<CsvReadResult> {
  if (traceKind(path) === 'csv') {
    // Chunks are dropped as they fill: validating a huge file holds one chunk at a time.
    const parser = new CsvTraceParser({ file: path, collectErrors: true, onChunk: () => {}, reuse: true });
    try {
      for await (const _ of feedCsvFile(await openInput(path), path, parser));
      parser.finish();
    } catch (err) {
      // A line too long to read ends the file, but what was found before it is still reported.
      if (!(err instanceof TraceError)) throw err;
      parser.fail(err);
    }
    return { meta: parser.meta, chunks: [], errors: parser.errors, stoppedEarly: parser.stoppedEarly, rows: parser.rows };
  }
  await (await openInput(path)).close();
  const trace = await openS2t(path);
  let rows = 0;
  for await (const chunk of trace.chunks()) rows += chunk.length;
  return { meta: trace.meta, chunks: [], errors: [], stoppedEarly: false, rows };
}

/** Writes a trace (by extension) atomically: a temporary file beside it, renamed at the end. */
export async function writeTrace(
  path: string,
  meta: TraceMeta,
  chunks: Iterable<TraceChunk> | AsyncIterable<TraceChunk>,
  options: S2tWriteOptions = {},
): Promise<void> {
  const writer = await TraceFileWriter.create(path, meta, options);
  try {
    for await (const chunk of chunks) await writer.writeChunk(chunk);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  await writer.commit();
}

/**
 * A trace written chunk by chunk as its rows come, for producers that push (an importer writing one
 * trace per VM it finds while reading). Everything goes to a temporary file beside `path`; commit()
 * renames it into place (to `path`, or to another name of the same kind decided only at the end) and
 * abort() removes it, so a failed run never leaves a partial trace under a real name.
 */
export class TraceFileWriter {
  private rows = 0;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly temp: string,
    private readonly meta: TraceMeta,
    private readonly s2t: S2tWriter | undefined,
    private readonly csv: FileHandle | undefined,
  ) {}

  static async create(path: string, meta: TraceMeta, options: S2tWriteOptions = {}): Promise<TraceFileWriter> {
    const kind = traceKind(path);
    const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
    // Fail here, as the user's error, when the output cannot be created (no such directory, ...).
    const handle = await openOutput(temp, path);
    if (kind === 's2t') {
      await handle.close();
      try {
        return new TraceFileWriter(path, temp, meta, await S2tWriter.create(temp, meta, options), undefined);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    }
    try {
      await handle.write(formatCsvHead(meta));
    } catch (err) {
      await handle.close();
      await rm(temp, { force: true });
      throw err;
    }
    return new TraceFileWriter(path, temp, meta, undefined, handle);
  }

  async writeChunk(chunk: TraceChunk): Promise<void> {
    if (this.s2t) await this.s2t.writeChunk(chunk);
    else await this.csv!.write(formatCsvChunk(chunk, this.meta));
    this.rows = chunk.firstRow + chunk.length;
  }

  /** Finishes the file and renames it to `final` (default: the path it was created for). */
  async commit(final: string = this.path): Promise<void> {
    if (traceKind(final) !== traceKind(this.path)) throw new Error(`${final}: not the kind of ${this.path}`);
    this.closed = true;
    try {
      if (this.s2t) await this.s2t.close();
      else {
        try {
          await this.csv!.write(formatCsvTail(this.meta, this.rows));
        } finally {
          await this.csv!.close();
        }
      }
      await rename(this.temp, final);
    } catch (err) {
      await rm(this.temp, { force: true });
      throw err;
    }
  }

  /** Removes the temporary file (the caller's error handler: safe after a failed write or commit). */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.s2t) await this.s2t.abort();
      else await this.csv!.close();
    }
    await rm(this.temp, { force: true });
  }
}

async function openOutput(temp: string, path: string): Promise<FileHandle> {
  try {
    return await open(temp, 'w');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') {
      throw new InputError(`${path}: cannot write here (${code})`);
    }
    throw err;
  }
}

/** A trace from CSV text (tests, generators). Throws the first problem. */
export async function parseTraceText(text: string, name = '<text>', chunkRows?: number): Promise<LoadedTrace> {
  const { meta, chunks } = await readCsvLines(text.split('\n'), { file: name, ...(chunkRows ? { chunkRows } : {}) });
  return { meta, chunks };
}

/** Canonical CSV text of a trace. */
export function formatTraceText(meta: TraceMeta, chunks: Iterable<TraceChunk>): string {
  let out = formatCsvHead(meta);
  let rows = 0;
  for (const chunk of chunks) {
    out += formatCsvChunk(chunk, meta);
    rows = chunk.firstRow + chunk.length;
  }
  return out + formatCsvTail(meta, rows);
}
