// The byte reader of CSV files (src/trace/csv-file.ts, byte-cells.ts) against csv-parse: a file read
// block by block, data rows split and parsed from bytes, gives the rows and the errors that the same
// text gives when every data row goes through csv-parse, wherever the block boundaries fall.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { assertBytesAgreeWithCells } from '../helpers/push-lines.js';
import { CsvTraceParser, HEADER_LINE, readCsvLines } from '../../src/trace/csv.js';
import { feedCsvFile } from '../../src/trace/csv-file.js';
import { openInput } from '../../src/trace/io.js';
import type { TraceChunk } from '../../src/trace/schema.js';
import { tempDir } from '../helpers/temp.js';

/** The lines of `text` with the cells of each unquoted data row quoted: csv-parse splits every row. */
function quotedRows(text: string): string[] {
  const header = text.split('\n').indexOf(HEADER_LINE);
  return text.split('\n').map((line, k) => {
    const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
    const first = bare.charCodeAt(0);
    if (k <= header || !(first >= 97 && first <= 122) || bare.includes('"')) return line;
    return bare.split(',').map((cell) => `"${cell}"`).join(',');
  });
}

async function readFileBytes(path: string, blockBytes: number): Promise<{ chunks: TraceChunk[]; errors: string[]; rows: number }> {
  const chunks: TraceChunk[] = [];
  const parser = new CsvTraceParser({ file: 'f.csv', chunkRows: 3, collectErrors: true, onChunk: (c) => chunks.push(c) });
  for await (const _ of feedCsvFile(await openInput(path), 'f.csv', parser, { blockBytes }));
  parser.finish();
  return { chunks, errors: parser.errors.map((e) => e.message), rows: parser.rows };
}

test('rows and errors read from bytes are those of csv-parse, for any block size', async () => {
  const dir = await tempDir('csv-bytes');
  const path = join(dir, 'f.csv');
  const cell = fc.oneof(
    fc.constantFrom('', '0', '00', '7', '-0', '-5', '0x0', '0x00', '0X1f', '0xABC', '0x1000', '4096', 'ok', 'mmio', 'okay', '-EINVAL', 'log|ro', 'private', 'x y', ' 1', 'é', '0x1é', '１', '99999999999999999999', '0x10000000000000000', '4294967296'),
    fc.nat().map(String),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((v) => `0x${v.toString(16)}`),
  );
  const op = fc.constantFrom('read', 'write', 'exec', 'memslot', 'expect', 'dirty_get', 'reed', 'ré', '');
  // Some cells quoted whole, as a spreadsheet writes them (the reader splits those itself).
  const maybeQuoted = fc.tuple(cell, fc.nat({ max: 3 })).map(([c, q]) => (q === 0 ? `"${c}"` : c));
  const row = fc.tuple(op, fc.array(maybeQuoted, { minLength: 9, maxLength: 11 }), fc.boolean(), fc.boolean()).map(([o, cells, crlf, q]) => [q ? `"${o}"` : o, ...cells].join(',') + (crlf ? '\r' : ''));
  const other = fc.constantFrom(
    '', '\r', '# a comment', '#x: y', 'read,"0",0x1000,,,,,,,,ok', 'expect,,,,,"a,b",,,,,0', 'read,0,"0x1000,,,,,,,,', ' read,0,0x1000,,,,,,,,', '1,2',
    '"read","0","0x10""00",,,,,,,,', '"read"x,0,0,,,,,,,,', 'read,"0"," 0x1000",,,,,,,,', 'read,"0","0x1000\r",,,,,,,,', 'read,"",0x1000,,,,,,,,',
    '"read,0,0x1000,,,,,,,,ok"', 'read,0\r,"0x1000",,,,,,,,', 'read,0,"0x1000",,,,,,,,"ok"\r', 'read,0,"0x1000" ,,,,,,,,', 'memslot,,0,0x1000,1,"log,ro",0x7f0000000000,,,,0', '"",,,,,,,,,,',
  );
  const line = fc.oneof({ weight: 4, arbitrary: row }, { weight: 1, arbitrary: other });
  await fc.assert(
    fc.asyncProperty(fc.array(line, { maxLength: 12 }), fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 80 }), async (lines, bom, newlineAtEnd, blockBytes) => {
      const text = `${bom ? '\uFEFF' : ''}# s2bench trace v1\n${HEADER_LINE}\n${lines.join('\n')}${newlineAtEnd ? '\n' : ''}`;
      await writeFile(path, text);
      const fast = await readFileBytes(path, blockBytes);
      const reference = await readCsvLines(quotedRows(text), { file: 'f.csv', chunkRows: 3, collectErrors: true, onChunk: () => {} });
      assert.deepEqual(fast.errors, reference.errors.map((e) => e.message));
      assert.equal(fast.rows, reference.rows);
      // The same rows, in chunks of the same shape.
      const again = await readCsvLines(quotedRows(text), { file: 'f.csv', chunkRows: 3, collectErrors: true });
      assert.deepEqual(fast.chunks, again.chunks);
    }),
    { numRuns: 400 },
  );
});

test('a line over the limit is found whatever the block size, after the lines before it', async () => {
  const dir = await tempDir('csv-bytes');
  const path = join(dir, 'long.csv');
  await writeFile(path, `# s2bench trace v1\n${HEADER_LINE}\nfrobnicate,,,,,,,,,,\n${'é'.repeat((1 << 20) + 1)}\nread,0,0,,,,,,,,\n`);
  for (const blockBytes of [7, 1 << 16, undefined]) {
    const parser = new CsvTraceParser({ file: 'long.csv', collectErrors: true, onChunk: () => {} });
    await assert.rejects(
      (async () => {
        for await (const _ of feedCsvFile(await openInput(path), 'long.csv', parser, blockBytes === undefined ? {} : { blockBytes }));
      })(),
      /long\.csv: line 4: line longer than 1048576 characters/,
    );
    assert.deepEqual(parser.errors.map((e) => e.line), [3]);
  }
  // 2^20 two-byte characters are 2 MiB but not too long.
  await writeFile(path, `# s2bench trace v1\n${HEADER_LINE}\n#${'é'.repeat((1 << 20) - 1)}\nread,0,0,,,,,,,,\n`);
  const parser = new CsvTraceParser({ file: 'long.csv', collectErrors: true, onChunk: () => {} });
  for await (const _ of feedCsvFile(await openInput(path), 'long.csv', parser, { blockBytes: 1 << 16 }));
  assert.deepEqual(parser.errors, []);
  assert.equal(parser.rows, 1);
});

test('the one-pass reader of plain rows stores what the cell texts store, at every limit of a plain cell', () => {
  // Cells at and just past what the one-pass reader takes (15 decimal digits, 13 hex digits, 2^32-1 in
  // a u32 field, canonical spelling), mixed into rows that are mostly valid, so that each row is
  // sometimes plain and sometimes not, and mostly accepted.
  const edge = fc.constantFrom('', '0', '0x0', '4294967295', '4294967296', '0xffffffff', '0x100000000', '999999999999999', '1000000000000000', '0x1fffffffffffff', '0x20000000000000', '01', '00', '0x01', '0xA', '0X1', '0x', '-1', '1 ', 'x');
  const small = fc.oneof(fc.nat({ max: 64 }).map(String), fc.nat({ max: 64 }).map((v) => `0x${v.toString(16)}`));
  const u64 = fc.oneof(fc.constant(''), fc.nat().map(String), fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }).map((v) => `0x${v.toString(16)}`));
  const size = fc.oneof(fc.constant(''), fc.integer({ min: 1, max: 1 << 20 }).map((v) => `0x${(v * 4096).toString(16)}`), fc.constant('4096'));
  const cell = (good: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: edge });
  const ret = fc.constantFrom('', 'ok', 'mmio', 'memfault', 'pabt', 'okk', 'o', '0', '-22', '-0', '00', '-', '123456789012345', '1234567890123456', '-EFAULT', '0x10', '0,');
  const op = fc.constantFrom('read', 'write', 'exec', 'memslot', 'uffd', 'dirty_get', 'expect', 'rea', 'writes');
  const fields = [cell(small), cell(u64), cell(size), cell(small), cell(small), cell(u64), cell(small), cell(u64), cell(small)] as const;
  const line = fc.tuple(op, fc.tuple(...fields), ret).map(([o, cells, r]) => [o, ...cells, r].join(','));
  fc.assert(
    fc.property(fc.array(line, { minLength: 1, maxLength: 6 }), (lines) => {
      assertBytesAgreeWithCells(lines, 4);
    }),
    { numRuns: 3000 },
  );
});
