// Surgery on .s2t bytes for tests: replace the metadata or a chunk's side-table JSON and fix the CRCs,
// so that only the JSON is wrong (a checksum mismatch would be caught before the JSON is read).

import { crc32 } from '../../src/trace/crc32.js';

const HEADER_BYTES = 32;
const CHUNK_HEADER_BYTES = 28;

export function withMetaJson(s2t: Buffer, json: string): Buffer {
  const metaBytes = s2t.readUInt32LE(12);
  const body = s2t.subarray(HEADER_BYTES + metaBytes);
  const meta = Buffer.from(json, 'utf8');
  const header = Buffer.from(s2t.subarray(0, HEADER_BYTES));
  header.writeUInt32LE(meta.length, 12);
  header.writeUInt32LE(crc32(meta), 28);
  return Buffer.concat([header, meta, body]);
}

/** The side table of the first chunk; the file must hold exactly one chunk. */
export function withSideJson(s2t: Buffer, json: string): Buffer {
  const at = HEADER_BYTES + s2t.readUInt32LE(12);
  const head = Buffer.from(s2t.subarray(at, at + CHUNK_HEADER_BYTES));
  const sideBytes = head.readUInt32LE(16);
  const columns = s2t.subarray(at + CHUNK_HEADER_BYTES, s2t.length - sideBytes);
  const side = Buffer.from(json, 'utf8');
  head.writeUInt32LE(side.length, 16);
  const crc = crc32(columns, crc32(head.subarray(24, 28)));
  head.writeUInt32LE(crc32(side, crc), 20);
  return Buffer.concat([s2t.subarray(0, at), head, columns, side]);
}

/** The metadata JSON text of an .s2t file. */
export function metaJsonOf(s2t: Buffer): string {
  return s2t.subarray(HEADER_BYTES, HEADER_BYTES + s2t.readUInt32LE(12)).toString('utf8');
}
