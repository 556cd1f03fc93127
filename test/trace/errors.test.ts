import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TraceError } from '../../src/errors.js';
import { parseTraceText, readTrace, validateTraceFile, writeTrace } from '../../src/trace/io.js';
import { tempDir } from '../helpers/temp.js';

const HEAD = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';

async function problem(body: string): Promise<TraceError> {
  try {
    await parseTraceText(HEAD + body, 't.csv');
  } catch (err) {
    assert.ok(err instanceof TraceError, String(err));
    return err;
  }
  assert.fail('expected a TraceError');
}

test('each kind of bad row names the file, line and field', async () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ['frobnicate,,,,,,,,,,\n', 3, 'op', /unknown op 'frobnicate'/],
    ['read,0,0x1g,,,,,,,,\n', 3, 'gpa', /'0x1g' is not a number/],
    ['read,0,0x10000000000000000,,,,,,,,\n', 3, 'gpa', /out of range/],
    ['read,4294967296,0x1000,,,,,,,,\n', 3, 'vcpu', /out of range/],
    ['dirty_get,,,,0,,,,,,9007199254740993\n', 3, 'ret', /out of range/],
    ['memslot,,0,0x1000,,,0x1000,,,,\n', 3, 'slot', /requires slot/],
    ['memslot,,0,0x1000,1,rw,0x1000,,,,\n', 3, 'flags', /unknown flags name 'rw' for op memslot/],
    ['read,0,0x1000,,,,,,,,maybe\n', 3, 'ret', /not a valid ret/],
    ['memslot,,0,0x1000,1,,0x1000,,,,ok\n', 3, 'ret', /not an access/],
    ['memslot,,0,0x1000,1,,0x1000,,,,-EWHAT\n', 3, 'ret', /unknown errno name 'EWHAT'/],
    // A valid 64-bit number, but a sweep of 2^52 pages is no guest loop: refused before replay.
    ['write,0,0x1000,0xfffffffffffff000,,,,,,,\n', 3, 'size', /may sweep at most 1 TiB/],
  ];
  for (const [body, line, field, message] of cases) {
    const err = await problem(body);
    assert.equal(err.file, 't.csv');
    assert.equal(err.line, line, body);
    assert.equal(err.field, field, body);
    assert.match(err.message, message);
  }
  const columns = await problem('read,0,0x1000\n');
  assert.match(columns.message, /t\.csv: line 3: expected 11 columns .* found 3/);
});

test('an empty file, a missing header and an unknown version are errors', async () => {
  await assert.rejects(parseTraceText('', 'e.csv'), /e\.csv: line 0: empty file/);
  await assert.rejects(parseTraceText('# s2bench trace v1\nread,0,0x1000,,,,,,,,\n', 'h.csv'), /h\.csv: line 2: header row missing/);
  await assert.rejects(parseTraceText('# s2bench trace v2\n', 'v.csv'), /trace format v2 is not supported/);
});

test('validate collects every problem in a file, not just the first', async () => {
  const dir = await tempDir('validate');
  const path = join(dir, 'bad.csv');
  await writeFile(path, HEAD + 'frob,,,,,,,,,,\nread,0,0x1000,,,,,,,,ok\nread,0,zz,,,,,,,,\n');
  const result = await validateTraceFile(path);
  assert.equal(result.rows, 1);
  assert.deepEqual(result.errors.map((e) => [e.line, e.field]), [[3, 'op'], [5, 'gpa']]);
});

async function s2tFile(): Promise<{ path: string; bytes: Buffer }> {
  const dir = await tempDir('s2t');
  const trace = await parseTraceText(HEAD + 'memslot,,0,0x200000,0,,0x7f0000000000,,,,0\nread,0,0x1000,,,,,,,,ok\n');
  const path = join(dir, 't.s2t');
  await writeTrace(path, trace.meta, trace.chunks);
  return { path, bytes: await readFile(path) };
}

test('a damaged .s2t names the file and record: bad magic, wrong version, checksum, truncation', async () => {
  const { path, bytes } = await s2tFile();
  assert.equal((await readTrace(path)).chunks[0]!.length, 2);

  const magic = Buffer.from(bytes);
  magic.write('NOTATRACE', 0, 'latin1');
  await writeFile(path, magic);
  await assert.rejects(readTrace(path), /t\.s2t: record 0: bad magic/);

  const version = Buffer.from(bytes);
  version.writeUInt32LE(9, 8);
  await writeFile(path, version);
  await assert.rejects(readTrace(path), /wrong version 9/);

  const flipped = Buffer.from(bytes);
  flipped[bytes.length - 20]! ^= 0xff;
  await writeFile(path, flipped);
  await assert.rejects(readTrace(path), /checksum mismatch in chunk 0/);

  await writeFile(path, bytes);
  await truncate(path, bytes.length - 10);
  await assert.rejects(readTrace(path), /chunk 0 \(2 records\) runs past the end of the file/);

  const empty = Buffer.from(bytes.subarray(0, bytes.indexOf('CHNK')));
  await writeFile(path, empty);
  await assert.rejects(readTrace(path), /truncated: the file ends after 0 of 2 records/);
});
