// The two JSON parts of an .s2t file, checked against a schema before anything uses them: a file whose
// checksums are right can still carry JSON of the wrong shape (hand-edited, or written by a buggy
// tool), and that must be a TraceError naming the record and field, not a TypeError deep in a reader.
// zod: the schema states the shape once, and its issues name the path of what is wrong.

import { z } from 'zod';
import { TraceError } from '../errors.js';
import { firstIssue } from '../schema-issue.js';
import { FIELDS, type TraceMeta } from './schema.js';

/** A comment line as a CSV trace holds it: starts with `#`, one line. */
const COMMENT = z.string().regex(/^#[^\r\n]*$/, 'a comment is one line starting with #');
const ONE_LINE = z.string().regex(/^[^\r\n]*$/, 'must be one line');

const META = z.object({
  comments: z.array(COMMENT).optional(),
  fields: z.record(z.string(), ONE_LINE).optional(),
});

const ROW_INDEX = z.number().int().nonnegative();

/** What a chunk's side table may hold. The limits that depend on the chunk are checked below. */
const SIDE_TABLE = z.object({
  /** Verbatim cells: [row within chunk * 16 + field, text as the CSV had it]. */
  v: z.array(z.tuple([ROW_INDEX, z.string().regex(/^[^,\r\n"]+$/, 'a verbatim cell is non-empty text without , " or newlines')])).optional(),
  /** Metric names of the chunk's `expect` rows. */
  n: z.array(ONE_LINE).optional(),
  /** Comments between rows: [row of the trace they stand before, text]. */
  c: z.array(z.tuple([ROW_INDEX, COMMENT])).optional(),
});

export type SideTable = z.infer<typeof SIDE_TABLE>;

function parseJson(bytes: Uint8Array, fail: (field: string, detail: string) => TraceError): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    throw fail('', `not valid JSON: ${(err as Error).message}`);
  }
}

/** The header's metadata JSON (record 0). */
export function parseMetaJson(bytes: Uint8Array, path: string): TraceMeta {
  const fail = (field: string, detail: string): TraceError => new TraceError(path, 0, field ? `metadata.${field}` : 'metadata', `metadata: ${detail}`, true);
  const result = META.safeParse(parseJson(bytes, fail));
  if (!result.success) {
    const { path: field, message } = firstIssue(result.error);
    throw fail(field, message);
  }
  return { comments: result.data.comments ?? [], fields: result.data.fields ?? {} };
}

export interface SideTablePlace {
  path: string;
  /** First record of the chunk (where errors point). */
  record: number;
  chunk: number;
  rows: number;
  firstRow: number;
}

/** A chunk's side table, with its verbatim cells inside the chunk's rows and fields. */
export function parseSideTable(bytes: Uint8Array, at: SideTablePlace): SideTable {
  const fail = (field: string, detail: string): TraceError =>
    new TraceError(at.path, at.record, field ? `side table ${field}` : 'side table', `chunk ${at.chunk} side table: ${detail}`, true);
  const result = SIDE_TABLE.safeParse(parseJson(bytes, fail));
  if (!result.success) {
    const { path: field, message } = firstIssue(result.error);
    throw fail(field, message);
  }
  const table = result.data;
  table.v?.forEach(([key], k) => {
    const field = key & 15;
    if (key >> 4 >= at.rows || field === 0 || field >= FIELDS.length) {
      throw fail(`v[${k}]`, `verbatim cell key ${key} is not a field (1..${FIELDS.length - 1}) of a row in this chunk of ${at.rows}`);
    }
  });
  return table;
}
