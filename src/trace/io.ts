// Reading and writing traces by file extension (.csv text, .s2t binary). Streaming throughout: a
// reader holds one chunk at a time, and writers go to a temporary file renamed into place at the end,
// so an interrupted conversion never leaves half a trace under the real name.

import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { UsageError } from '../cli/errors.js';
import { CsvTraceParser, formatCsvChunk, formatCsvHead, formatCsvTail, readCsvLines, type CsvReadResult } from './csv.js';
import { openS2t, S2tWriter } from './s2t.js';
import type { TraceChunk, TraceMeta } from './schema.js';

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
  chunks(): AsyncIterable<TraceChunk>;
}

export interface LoadedTrace {
  meta: TraceMeta;
  chunks: TraceChunk[];
}

function fileLines(path: string): AsyncIterableIterator<string> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  return createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator]();
}

/** Opens a trace: the metadata now, the chunks as they are read. */
export async function openTrace(path: string, chunkRows?: number): Promise<OpenTrace> {
  if (traceKind(path) === 's2t') return openS2t(path);
  const ready: TraceChunk[] = [];
  const parser = new CsvTraceParser({ file: path, ...(chunkRows ? { chunkRows } : {}), onChunk: (c) => ready.push(c) });
  const lines = fileLines(path);
  // Read up to the header so that the metadata is known before any chunk is asked for.
  while (!parser.headerSeen) {
    const next = await lines.next();
    if (next.done) {
      parser.finish();
      break;
    }
    if (!parser.feed(next.value)) break;
  }
  return {
    meta: parser.meta,
    async *chunks() {
      for await (const line of lines) {
        parser.feed(line);
        while (ready.length > 0) yield ready.shift()!;
      }
      parser.finish();
      while (ready.length > 0) yield ready.shift()!;
    },
  };
}

/** The whole trace in memory (fine for the few-MB traces of a suite; stream big ones). */
export async function readTrace(path: string, chunkRows?: number): Promise<LoadedTrace> {
  const trace = await openTrace(path, chunkRows);
  const chunks: TraceChunk[] = [];
  for await (const chunk of trace.chunks()) chunks.push(chunk);
  return { meta: trace.meta, chunks };
}

/** Every problem in a trace file, not just the first (CSV); an .s2t stops at its first problem. */
export async function validateTraceFile(path: string): Promise<CsvReadResult> {
  if (traceKind(path) === 'csv') return readCsvLines(fileLines(path), { file: path, collectErrors: true });
  const trace = await openS2t(path);
  let rows = 0;
  for await (const chunk of trace.chunks()) rows += chunk.length;
  return { meta: trace.meta, chunks: [], errors: [], rows };
}

/** Writes a trace (by extension) atomically: a temporary file beside it, renamed at the end. */
export async function writeTrace(
  path: string,
  meta: TraceMeta,
  chunks: Iterable<TraceChunk> | AsyncIterable<TraceChunk>,
): Promise<void> {
  const kind = traceKind(path);
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    if (kind === 's2t') {
      const writer = await S2tWriter.create(temp, meta);
      for await (const chunk of chunks) await writer.writeChunk(chunk);
      await writer.close();
    } else {
      const out = createWriteStream(temp, { encoding: 'utf8' });
      const write = async (text: string): Promise<void> => {
        if (!out.write(text)) await once(out, 'drain');
      };
      await write(formatCsvHead(meta));
      let rows = 0;
      for await (const chunk of chunks) {
        await write(formatCsvChunk(chunk, meta));
        rows = chunk.firstRow + chunk.length;
      }
      await write(formatCsvTail(meta, rows));
      out.end();
      await once(out, 'finish');
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
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
