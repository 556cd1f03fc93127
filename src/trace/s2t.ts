// The binary trace format .s2t: a header (magic, version, JSON metadata, event count, checksum), then
// chunks whose columns are the in-memory typed arrays as they are (little-endian), each followed by a
// small JSON side table (verbatim cells, expect metric names, comments) and guarded by a CRC32.
//
//   header  "S2BTRACE" | u32 version | u32 metaBytes | u32 events lo | u32 events hi | u32 chunks
//           | u32 crc32(meta) | meta JSON
//   chunk   "CHNK" | u32 rows | u32 firstRow lo | u32 firstRow hi | u32 sideBytes
//           | u32 crc32(mask + columns + side) | u32 column mask | columns | side JSON
//
// The columns are those of chunk.ts's COLUMN_LAYOUT, in that order, `rows` elements each, unpadded;
// a column that is all zero in the chunk is left out and its bit in the mask is clear (an access-only
// chunk has no hva, offset, attrs, slot or fd: about half the bytes). The reader puts each column in
// place in one chunk-sized ArrayBuffer, so what it yields transfers to a worker as one buffer.
//
// Version 2 (written now; version 1 files still read) stores each column in the smallest of the
// per-column encodings of ./s2t-columns.ts (constant, run-length, each also on the differences between
// rows), optionally deflated as a whole (node:zlib), and says how many bytes that takes:
//
//   chunk   "CHNK" | u32 rows | u32 firstRow lo | u32 firstRow hi | u32 sideBytes
//           | u32 crc32(mask + payloadBytes + flags + payload + side) | u32 column mask
//           | u32 payloadBytes | u32 flags (bit 0: payload deflated) | payload | side JSON
//   payload for each column in the mask: u32 encoding | u32 bytes | the encoded column
//
// Reading holds one chunk at a time, so memory stays bounded whatever the file's size.

import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeColumn, encodeColumn } from './s2t-columns.js';
import { crc32 } from './crc32.js';
import { chunkBytes, chunkOver, COLUMN_LAYOUT, type ChunkOptions } from './chunk.js';
import { TraceError } from '../errors.js';
import { rowProblem } from './row.js';
import type { SideTable } from './s2t-json.js';
import { OP, OPS, type TraceChunk, type TraceMeta } from './schema.js';

/** The .s2t version written; readers take this one and every earlier one (S2T_VERSIONS). */
export const S2T_VERSION = 2;
const S2T_VERSIONS = [1, 2];

export const S2T_MAGIC = 'S2BTRACE';
const CHUNK_MAGIC = 'CHNK';
const HEADER_BYTES = 32;
const CHUNK_HEADER_BYTES = 28;
/** A v2 chunk header: v1's, then payloadBytes and flags. */
const CHUNK_HEADER_BYTES_V2 = 36;
const FLAG_DEFLATED = 1 << 0;
/** Every row has its op bit in `present`, so this column is never left out. */
const PRESENT_BIT = 1 << COLUMN_LAYOUT.findIndex(([name]) => name === 'present');
/** The most rows a chunk may claim: a damaged header must not make the reader allocate gigabytes. */
const MAX_CHUNK_ROWS = 1 << 24;

if (endianness() !== 'LE') {
  // Columns are written as the typed arrays' bytes; a big-endian host would need byte swaps.
  throw new Error('the .s2t format is little-endian and this host is big-endian');
}

/** Writes chunks to an .s2t file as they come; the header's counts are patched at the end. */
export interface S2tWriteOptions {
  /** Deflate each chunk's encoded columns (node:zlib, fastest level): smaller, slower to write and read. */
  compress?: boolean;
}

export class S2tWriter {
  private events = 0;
  private chunks = 0;
  private position = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly meta: TraceMeta,
    private readonly compress: boolean,
  ) {}

  static async create(path: string, meta: TraceMeta, options: S2tWriteOptions = {}): Promise<S2tWriter> {
    const handle = await open(path, 'w');
    const writer = new S2tWriter(handle, meta, options.compress === true);
    const metaJson = Buffer.from(JSON.stringify({ comments: meta.comments, fields: meta.fields }), 'utf8');
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(S2T_MAGIC, 0, 'latin1');
    header.writeUInt32LE(S2T_VERSION, 8);
    header.writeUInt32LE(metaJson.length, 12);
    header.writeUInt32LE(crc32(metaJson), 28);
    await writer.write(header);
    await writer.write(metaJson);
    return writer;
  }

  private async write(data: Uint8Array): Promise<void> {
    await this.handle.write(data, 0, data.length, this.position);
    this.position += data.length;
  }

  async writeChunk(chunk: TraceChunk): Promise<void> {
    const rows = chunk.length;
    if (rows === 0) return;
    const { mask, columns } = columnBytes(chunk);
    const side: SideTable = {};
    if (chunk.verbatim.size > 0) side.v = [...chunk.verbatim.entries()].filter(([k]) => k >> 4 < rows);
    if (chunk.names.length > 0) side.n = chunk.names;
    const comments = this.commentsBefore(chunk.firstRow + rows);
    if (comments.length > 0) side.c = comments.map((c) => [c.row, c.text]);
    const sideJson = Buffer.from(JSON.stringify(side), 'utf8');
    const payload = this.encodePayload(mask, columns);
    const payloadBytes = payload.reduce((sum, part) => sum + part.length, 0);
    const header = Buffer.alloc(CHUNK_HEADER_BYTES_V2);
    header.write(CHUNK_MAGIC, 0, 'latin1');
    header.writeUInt32LE(rows, 4);
    header.writeUInt32LE(chunk.firstRow % 0x1_0000_0000, 8);
    header.writeUInt32LE(Math.floor(chunk.firstRow / 0x1_0000_0000), 12);
    header.writeUInt32LE(sideJson.length, 16);
    header.writeUInt32LE(mask, 24);
    header.writeUInt32LE(payloadBytes, 28);
    header.writeUInt32LE(this.compress ? FLAG_DEFLATED : 0, 32);
    // The mask, sizes and flags are checksummed too: they decide how the bytes are read. The CRC runs
    // on over the payload's parts, as it would over their concatenation.
    let crc = crc32(header.subarray(24, CHUNK_HEADER_BYTES_V2));
    for (const part of payload) crc = crc32(part, crc);
    header.writeUInt32LE(crc32(sideJson, crc), 20);
    await this.writeAll([header, ...payload, sideJson], CHUNK_HEADER_BYTES_V2 + payloadBytes + sideJson.length);
    this.events += rows;
    this.chunks++;
  }

  /**
   * The columns, each in its smallest encoding, behind its encoding and size: as parts, written one
   * after the other, so that the columns are not copied once more into one payload (a fifth of the
   * encoding's time); deflated as one part if asked.
   */
  private encodePayload(mask: number, columns: Uint8Array[]): Uint8Array[] {
    const parts: Uint8Array[] = [];
    let k = 0;
    COLUMN_LAYOUT.forEach(([, width], c) => {
      if ((mask & (1 << c)) === 0) return;
      const [tag, bytes] = encodeColumn(columns[k++]!, width);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(tag, 0);
      head.writeUInt32LE(bytes.length, 4);
      parts.push(head, bytes);
    });
    return this.compress ? [deflateRawSync(Buffer.concat(parts), { level: 1 })] : parts;
  }

  /**
   * `parts` (`bytes` in all) one after the other, in one writev: libuv's write of a file retries a
   * short write itself until every buffer is written or a call fails, so anything short is an error.
   */
  private async writeAll(parts: Uint8Array[], bytes: number): Promise<void> {
    const { bytesWritten } = await this.handle.writev(parts, this.position);
    if (bytesWritten !== bytes) throw new Error(`writing an .s2t chunk wrote ${bytesWritten} of ${bytes} bytes`);
    this.position += bytes;
  }

  /** Comments (from the metadata) that stand before row `end`, not yet written. */
  private commentsBefore(end: number): Array<{ row: number; text: string }> {
    return (this.meta.bodyComments ?? []).filter((c) => c.row >= this.events && c.row < end);
  }

  /** Gives up on the file (its caller removes it): closes the handle without patching the header. */
  async abort(): Promise<void> {
    await this.handle.close();
  }

  async close(): Promise<void> {
    // Comments after the last row travel in an empty-bodied final chunk only if there are any.
    const tail = (this.meta.bodyComments ?? []).filter((c) => c.row >= this.events);
    if (tail.length > 0) {
      const sideJson = Buffer.from(JSON.stringify({ c: tail.map((c) => [c.row, c.text]) }), 'utf8');
      const header = Buffer.alloc(CHUNK_HEADER_BYTES_V2);
      header.write(CHUNK_MAGIC, 0, 'latin1');
      header.writeUInt32LE(0, 4);
      header.writeUInt32LE(this.events % 0x1_0000_0000, 8);
      header.writeUInt32LE(Math.floor(this.events / 0x1_0000_0000), 12);
      header.writeUInt32LE(sideJson.length, 16);
      header.writeUInt32LE(crc32(sideJson, crc32(header.subarray(24, CHUNK_HEADER_BYTES_V2))), 20);
      await this.write(header);
      await this.write(sideJson);
      this.chunks++;
    }
    const counts = Buffer.alloc(12);
    counts.writeUInt32LE(this.events % 0x1_0000_0000, 0);
    counts.writeUInt32LE(Math.floor(this.events / 0x1_0000_0000), 4);
    counts.writeUInt32LE(this.chunks, 8);
    await this.handle.write(counts, 0, 12, 16);
    await this.handle.close();
  }
}

type Column = Float64Array | Uint32Array | Uint16Array | Uint8Array;

/** The bytes of column `name` for the chunk's `length` rows (a view, no copy). */
function columnView(chunk: TraceChunk, name: (typeof COLUMN_LAYOUT)[number][0]): Uint8Array {
  const column = chunk[name] as Column;
  return new Uint8Array(column.buffer, column.byteOffset, column.BYTES_PER_ELEMENT * chunk.length);
}

/** Zeros to compare columns against (grown to the largest column seen): memcmp beats a JS loop. */
let zeros = Buffer.alloc(0);

function allZero(bytes: Uint8Array): boolean {
  if (zeros.length < bytes.length) zeros = Buffer.alloc(bytes.length);
  return Buffer.compare(bytes, zeros.subarray(0, bytes.length)) === 0;
}

/** The non-zero columns of a chunk, in layout order, and the mask that names them. */
function columnBytes(chunk: TraceChunk): { mask: number; columns: Uint8Array[] } {
  let mask = 0;
  const columns: Uint8Array[] = [];
  COLUMN_LAYOUT.forEach(([name], c) => {
    const bytes = columnView(chunk, name);
    if (c === PRESENT_BIT_INDEX || !allZero(bytes)) {
      mask |= 1 << c;
      columns.push(bytes);
    }
  });
  return { mask, columns };
}

const PRESENT_BIT_INDEX = Math.log2(PRESENT_BIT);

export interface S2tReader {
  meta: TraceMeta;
  events: number;
  chunks(options?: ChunkOptions): AsyncGenerator<TraceChunk>;
}

/**
 * The schemas of the JSON parts, imported when a file is read: they bring zod (every locale it ships
 * included), which costs a process or pool worker more start-up than the rest of the trace code, and
 * writing .s2t or anything done with CSV traces never uses them.
 */
function loadJsonSchemas(): Promise<typeof import('./s2t-json.js')> {
  return import('./s2t-json.js');
}

/** Opens an .s2t file: reads and checks the header now, the chunks lazily, one at a time. */
export async function openS2t(path: string): Promise<S2tReader> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const fail = (record: number, detail: string): TraceError => new TraceError(path, record, '', detail, true);
    if (size === 0) throw fail(0, 'empty file: expected an .s2t trace');
    const header = Buffer.alloc(HEADER_BYTES);
    const got = (await handle.read(header, 0, HEADER_BYTES, 0)).bytesRead;
    if (header.toString('latin1', 0, Math.min(got, 8)) !== S2T_MAGIC.slice(0, Math.min(got, 8)) || got < 8) {
      throw fail(0, `bad magic: not an .s2t trace (expected '${S2T_MAGIC}')`);
    }
    if (got < HEADER_BYTES) throw fail(0, `truncated header: ${got} of ${HEADER_BYTES} bytes`);
    const version = header.readUInt32LE(8);
    if (!S2T_VERSIONS.includes(version)) throw fail(0, `wrong version ${version}: this s2bench reads .s2t v${S2T_VERSIONS.join(' and v')}`);
    const metaBytes = header.readUInt32LE(12);
    const events = header.readUInt32LE(16) + header.readUInt32LE(20) * 0x1_0000_0000;
    if (HEADER_BYTES + metaBytes > size) throw fail(0, 'truncated: metadata runs past the end of the file');
    const metaJson = Buffer.alloc(metaBytes);
    await handle.read(metaJson, 0, metaBytes, HEADER_BYTES);
    if (crc32(metaJson) !== header.readUInt32LE(28)) throw fail(0, 'checksum mismatch in the metadata');
    const meta = (await loadJsonSchemas()).parseMetaJson(metaJson, path);
    await handle.close();
    return { meta, events, chunks: (options) => readChunks(path, HEADER_BYTES + metaBytes, events, meta, version, options?.reuse ?? false) };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function* readChunks(path: string, start: number, events: number, meta: TraceMeta, version: number, reuse: boolean): AsyncGenerator<TraceChunk> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    let position = start;
    let rowsRead = 0;
    let index = 0;
    const fail = (record: number, detail: string): TraceError => new TraceError(path, record, '', detail, true);
    const headBytes = version === 1 ? CHUNK_HEADER_BYTES : CHUNK_HEADER_BYTES_V2;
    const head = Buffer.alloc(headBytes);
    const buffers = new ReadBuffers(reuse);
    const { parseSideTable } = await loadJsonSchemas();
    while (position < size) {
      if (size - position < headBytes) throw fail(rowsRead, `truncated: chunk ${index} header cut off`);
      await handle.read(head, 0, headBytes, position);
      if (head.toString('latin1', 0, 4) !== CHUNK_MAGIC) throw fail(rowsRead, `corrupted: chunk ${index} has no chunk magic`);
      const rows = head.readUInt32LE(4);
      const firstRow = head.readUInt32LE(8) + head.readUInt32LE(12) * 0x1_0000_0000;
      const sideBytes = head.readUInt32LE(16);
      const mask = head.readUInt32LE(24);
      if (rows > MAX_CHUNK_ROWS || mask >= 2 ** COLUMN_LAYOUT.length || (rows > 0) !== ((mask & PRESENT_BIT) !== 0)) {
        throw fail(rowsRead, `corrupted: chunk ${index} header (rows ${rows}, column mask 0x${mask.toString(16)})`);
      }
      let columnBytes = 0;
      COLUMN_LAYOUT.forEach(([, width], c) => {
        if ((mask & (1 << c)) !== 0) columnBytes += width * rows;
      });
      if (version !== 1) columnBytes = head.readUInt32LE(28);
      if (firstRow !== rowsRead) throw fail(rowsRead, `corrupted: chunk ${index} starts at record ${firstRow}, expected ${rowsRead}`);
      if (position + headBytes + columnBytes + sideBytes > size) {
        throw fail(rowsRead, `chunk ${index} (${rows} records) runs past the end of the file (truncated)`);
      }
      // Left-out columns stay as the fresh buffer's zeros.
      const chunk = chunkOver(buffers.columns(rows > 0 ? chunkBytes(rows) : 0), rows, rows, firstRow);
      let at = position + headBytes;
      let side: Buffer;
      if (version === 1) {
        let crc = crc32(head.subarray(24, 28));
        for (let c = 0; c < COLUMN_LAYOUT.length; c++) {
          if ((mask & (1 << c)) === 0) continue;
          const bytes = columnView(chunk, COLUMN_LAYOUT[c]![0]);
          await handle.read(bytes, 0, bytes.length, at);
          crc = crc32(bytes, crc);
          at += bytes.length;
        }
        side = Buffer.alloc(sideBytes);
        await handle.read(side, 0, sideBytes, at);
        if (crc32(side, crc) !== head.readUInt32LE(20)) {
          throw fail(rowsRead, `checksum mismatch in chunk ${index} (records ${rowsRead}..${rowsRead + rows - 1})`);
        }
      } else {
        const body = buffers.body(columnBytes + sideBytes);
        await handle.read(body, 0, body.length, at);
        if (crc32(body, crc32(head.subarray(24, CHUNK_HEADER_BYTES_V2))) !== head.readUInt32LE(20)) {
          throw fail(rowsRead, `checksum mismatch in chunk ${index} (records ${rowsRead}..${rowsRead + rows - 1})`);
        }
        const problem = decodePayload(chunk, mask, head.readUInt32LE(32), body.subarray(0, columnBytes));
        if (problem !== undefined) throw fail(rowsRead, `corrupted: chunk ${index} ${problem}`);
        side = body.subarray(columnBytes);
      }
      const table: SideTable = parseSideTable(side, { path, record: rowsRead, chunk: index, rows, firstRow });
      if (table.c) for (const [row, text] of table.c) (meta.bodyComments ??= []).push({ row, text });
      position += headBytes + columnBytes + sideBytes;
      index++;
      if (rows === 0) continue;
      if (table.v) for (const [key, text] of table.v) chunk.verbatim.set(key, text);
      if (table.n) chunk.names.push(...table.n);
      checkRows(chunk, path);
      rowsRead += rows;
      yield chunk;
    }
    if (rowsRead !== events) throw fail(rowsRead, `truncated: the file ends after ${rowsRead} of ${events} records`);
  } finally {
    await handle.close();
  }
}

/** The buffers a chunk is read into: new for each chunk, or with `reuse` the same ones (ChunkOptions). */
class ReadBuffers {
  private kept: ArrayBuffer | undefined;
  private keptBody: Buffer | undefined;

  constructor(private readonly reuse: boolean) {}

  /** A zeroed buffer of `bytes` for a chunk's columns (left-out columns read as zeros). */
  columns(bytes: number): ArrayBuffer {
    if (!this.reuse) return new ArrayBuffer(bytes);
    if (this.kept?.byteLength === bytes) new Uint8Array(this.kept).fill(0);
    else this.kept = new ArrayBuffer(bytes);
    return this.kept;
  }

  /** A buffer of `bytes` for a v2 chunk's payload and side table, which the read fills whole. */
  body(bytes: number): Buffer {
    if (!this.reuse) return Buffer.alloc(bytes);
    if (this.keptBody === undefined || this.keptBody.length < bytes) this.keptBody = Buffer.alloc(bytes);
    return this.keptBody.subarray(0, bytes);
  }
}

/**
 * A v2 chunk's payload into the chunk's columns: undefined, or what is wrong with it (a file whose
 * checksum holds was still written by someone: nothing in it is trusted).
 */
function decodePayload(chunk: TraceChunk, mask: number, flags: number, stored: Buffer): string | undefined {
  if ((flags & ~FLAG_DEFLATED) !== 0) return `has unknown flags 0x${flags.toString(16)}`;
  let payload: Buffer = stored;
  if ((flags & FLAG_DEFLATED) !== 0) {
    try {
      payload = inflateRawSync(stored, { maxOutputLength: chunkBytes(Math.max(1, chunk.length)) + 8 * COLUMN_LAYOUT.length });
    } catch (err) {
      return `does not inflate (${(err as Error).message})`;
    }
  }
  let at = 0;
  for (let c = 0; c < COLUMN_LAYOUT.length; c++) {
    if ((mask & (1 << c)) === 0) continue;
    const [name, width] = COLUMN_LAYOUT[c]!;
    if (at + 8 > payload.length) return `column ${name} is cut off`;
    const tag = payload.readUInt32LE(at);
    const bytes = payload.readUInt32LE(at + 4);
    if (at + 8 + bytes > payload.length) return `column ${name} runs past its chunk`;
    try {
      decodeColumn(tag, payload.subarray(at + 8, at + 8 + bytes), columnView(chunk, name), width);
    } catch (err) {
      if (err instanceof RangeError) return `column ${name}: ${err.message}`;
      throw err;
    }
    at += 8 + bytes;
  }
  return at === payload.length ? undefined : `has ${payload.length - at} bytes after its columns`;
}

/** The columns are only as good as the file: op codes, required fields and bounds are checked again. */
function checkRows(chunk: TraceChunk, path: string): void {
  for (let i = 0; i < chunk.length; i++) {
    const op = chunk.op[i]!;
    if (op >= OPS.length) throw new TraceError(path, chunk.firstRow + i, 'op', `unknown op code ${op}`, true);
    if (op === OP.expect && (chunk.flagsHi[i] !== 0 || chunk.flagsLo[i]! >= chunk.names.length)) {
      throw new TraceError(path, chunk.firstRow + i, 'flags', `expect row names metric ${chunk.flagsLo[i]} of ${chunk.names.length} in its chunk's side table`, true);
    }
    const problem = rowProblem(chunk, i);
    if (problem !== undefined) throw new TraceError(path, chunk.firstRow + i, problem.field, problem.detail, true);
  }
}
