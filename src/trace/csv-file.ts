// The lines of a CSV trace file, as bytes, into a CsvTraceParser: one read (and one `await`) per block
// of several megabytes, line ends found by the native byte search, no string per line. Only whole lines
// reach the parser, so a multi-byte character is never cut in two.

import type { FileHandle } from 'node:fs/promises';
import { TraceError } from '../errors.js';
import type { CsvTraceParser } from './csv.js';

/**
 * The longest line a text trace may have, in characters. A real row is under 200 characters; a file
 * with no newline for megabytes is not a trace, and holding it whole would cost memory in proportion
 * to its size.
 */
export const MAX_LINE_CHARS = 1 << 20;

/** Bytes read at a time: a few MB, so that reads and awaits cost nothing per line. */
const BLOCK_BYTES = 4 << 20;

/**
 * Bytes of an unfinished line past which it is too long whatever it holds: UTF-8 takes at most 3 bytes
 * per UTF-16 character (an invalid byte decodes to one U+FFFD).
 */
const MAX_LINE_BYTES = 3 * MAX_LINE_CHARS;

function lineTooLong(path: string, line: number): TraceError {
  return new TraceError(path, line, '', `line longer than ${MAX_LINE_CHARS} characters: not a trace line (is this a text trace?)`);
}

export interface FeedOptions {
  /** Lines at the start of the file that the parser has already read (they are counted, not fed). */
  skipLines?: number;
  /** Stop before the first line after the header row (to learn the metadata alone). */
  untilHeader?: boolean;
  /** Bytes read at a time (tests use a few, to put line ends everywhere); grows for a longer line. */
  blockBytes?: number;
}

/**
 * Feeds the lines of the file open as `handle` (named `path` in errors; closed at the end) to `parser`,
 * without their newline, yielding after each block so that a
 * streaming caller can pass on the chunks the block completed. Ends at the end of the file or when the
 * parser reads no further; a line over MAX_LINE_CHARS is a TraceError naming it, thrown once the lines
 * before it have been fed.
 */
export async function* feedCsvFile(handle: FileHandle, path: string, parser: CsvTraceParser, options: FeedOptions = {}): AsyncGenerator<void> {
  let block = Buffer.allocUnsafe(options.blockBytes ?? BLOCK_BYTES);
  let skip = options.skipLines ?? 0;
  const untilHeader = options.untilHeader === true;
  /** Bytes of block in use: the unfinished line carried over, then what was read after it. */
  let filled = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(block, filled, block.length - filled, null);
      const eof = bytesRead === 0;
      filled += bytesRead;
      let start = 0;
      while (start < filled) {
        let end = block.indexOf(10, start);
        // The search may run past `filled` into bytes of an earlier read: a newline there is no line end.
        if (end < 0 || end >= filled) {
          if (!eof) break;
          end = filled; // the last line, without a newline
        }
        if (skip > 0) skip--;
        else {
          if (untilHeader && parser.headerSeen) return;
          if (end - start > MAX_LINE_CHARS && block.toString('utf8', start, end).length > MAX_LINE_CHARS) {
            throw lineTooLong(path, parser.linesRead + 1);
          }
          if (!parser.feedLine(block, start, end)) return;
        }
        start = end + 1;
      }
      if (eof) return;
      if (start === 0 && filled === block.length) {
        // One unfinished line fills the block: a bigger block, unless the line is already too long.
        if (filled > MAX_LINE_BYTES) throw lineTooLong(path, parser.linesRead - skip + 1);
        const bigger = Buffer.allocUnsafe(2 * block.length);
        block.copy(bigger, 0, 0, filled);
        block = bigger;
      }
      block.copyWithin(0, start, filled);
      filled -= start;
      yield;
    }
  } finally {
    await handle.close();
  }
}
