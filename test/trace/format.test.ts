// Corners of trace format v1: number spellings at the edges of exact JS numbers, absurd sizes,
// comments and `expect` names across chunk boundaries and through .s2t.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TraceBuilder } from '../../src/trace/builder.js';
import { u64 } from '../../src/trace/columns.js';
import { crc32, crc32Portable } from '../../src/trace/crc32.js';
import { formatTraceText, openTrace, parseTraceText, readTrace, writeTrace } from '../../src/trace/io.js';
import { rowAt } from '../../src/trace/row.js';
import type { TraceChunk } from '../../src/trace/schema.js';
import { tempDir } from '../helpers/temp.js';

const HEAD = '# s2bench trace v1\nop,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n';

function rows(chunks: TraceChunk[]): ReturnType<typeof rowAt>[] {
  return chunks.flatMap((c) => Array.from({ length: c.length }, (_, i) => rowAt(c, i)));
}

test('numbers around 2^32 and 2^53 are exact in every spelling, and print back as written', async () => {
  const text =
    HEAD +
    'read,4294967295,0xfffffffffffff,0x1000,,,,,,,ok\n' + // 13 hex digits: 2^52-1
    'read,0,0x1fffffffffffff,,,,,,,,\n' + // 14 hex digits: 2^53-1
    'read,0,0x20000000000001,,,,,,,,\n' + // 2^53+1: not a double
    'read,0,999999999999999,,,,,,,,\n' + // 15 decimal digits
    'read,0,9007199254740993,,,,,,,,\n' + // 2^53+1, decimal
    'read,0,0x0000000000000000001000,,,,,,,,\n' + // leading zeros, longer than 16 digits
    'read,0,0X1000,0x1F000,,,,,,,\n' + // upper case
    'read,007,00,0x00,,,,,,,\n';
  const trace = await parseTraceText(text);
  const r = rows(trace.chunks);
  assert.equal(r[0]!.vcpu, 4294967295);
  assert.equal(r[0]!.gpa, 0xfffffffffffffn);
  assert.equal(r[1]!.gpa, 0x1fffffffffffffn);
  assert.equal(r[2]!.gpa, 0x20000000000001n);
  assert.equal(r[3]!.gpa, 999999999999999n);
  assert.equal(r[4]!.gpa, 9007199254740993n);
  assert.equal(r[5]!.gpa, 0x1000n);
  assert.equal(r[6]!.size, 0x1f000n);
  assert.deepEqual([r[7]!.vcpu, r[7]!.gpa, r[7]!.size], [7, 0n, 0n]);
  assert.equal(formatTraceText(trace.meta, trace.chunks), text);
  // Only the non-canonical cells are kept as text: 0x0000...1000, 0X1000, 0x1F000, 007, 00, 0x00.
  assert.equal(trace.chunks[0]!.verbatim.size, 6);
});

test('u32 fields reject 2^32 however it is spelled', async () => {
  for (const cell of ['4294967296', '0x100000000', '0x00000000100000000', '99999999999999999999']) {
    await assert.rejects(parseTraceText(`${HEAD}read,${cell},0x1000,,,,,,,,\n`, 'u.csv'), /u\.csv: line 3, field vcpu: .* out of range/);
  }
  await assert.rejects(parseTraceText(`${HEAD}read,0,0x10000000000000000,,,,,,,,\n`, 'g.csv'), /field gpa: .* out of range \(at most 2\^64-1\)/);
  await assert.rejects(parseTraceText(`${HEAD}read,-1,0x1000,,,,,,,,\n`, 'n.csv'), /field vcpu: '-1' is not a number/);
});

test('absurd sizes are just numbers: a 2^52-byte memslot and a 1 TiB access load, convert and print', async () => {
  const text =
    HEAD +
    'memslot,,0,0x10000000000000,0,,0x7f0000000000,,,,\n' +
    'backing,,,0x10000000000000,,hugetlb1g,0x7f0000000000,,,,\n' +
    'read,0,0x0,0xffffffffff,,,,,,,\n';
  const dir = await tempDir('fmt');
  const trace = await parseTraceText(text);
  await writeTrace(join(dir, 'big.s2t'), trace.meta, trace.chunks);
  // Nothing in the file is proportional to the sizes it names (a few hundred bytes, not petabytes).
  assert.ok((await stat(join(dir, 'big.s2t'))).size < 4096);
  const back = await readTrace(join(dir, 'big.s2t'));
  assert.equal(rows(back.chunks)[0]!.size, 1n << 52n);
  assert.equal(rows(back.chunks)[2]!.size, (1n << 40n) - 1n);
  // One byte more is no guest loop (errors.test.ts: an access sweeps at most 1 TiB).
  await assert.rejects(parseTraceText(HEAD + 'read,0,0x0,0x10000000000,,,,,,,\n'), /line 3, field size: an access row may sweep at most 1 TiB/);
  assert.equal(formatTraceText(back.meta, back.chunks), text);
});

test('comments between rows and expect names survive chunk boundaries, in CSV and in .s2t', async () => {
  const text =
    '# s2bench trace v1\n# source: hand-written\n# profiles: x86-tdp\n' +
    'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret\n' +
    '# before the first row\n' +
    'read,0,0x1000,,,,,,,,ok\n' +
    'expect,,,,,faults.fixed,,,,,1\n' +
    '# after row 2, at a chunk boundary\n' +
    'read,0,0x2000,,,,,,,,ok\n' +
    'expect,,,,,faults.fixed,,,,,2\n' +
    'expect,,,,,faults.spurious,,,,,0\n' +
    '# one\n# two\n' +
    'expect,,,,,faults.fixed,,,,,2\n' +
    '# trailing\n';
  const trace = await parseTraceText(text, 'c.csv', 2);
  assert.deepEqual(trace.meta.fields, { source: 'hand-written', profiles: 'x86-tdp' });
  assert.deepEqual(trace.chunks.map((c) => c.length), [2, 2, 2]);
  assert.deepEqual(trace.chunks[2]!.names, ['faults.spurious', 'faults.fixed']);
  assert.deepEqual(
    rows(trace.chunks).map((r) => (r.op === 'expect' ? `${String(r.flags)}=${String(r.ret)}` : r.op)),
    ['read', 'faults.fixed=1', 'read', 'faults.fixed=2', 'faults.spurious=0', 'faults.fixed=2'],
  );
  assert.equal(formatTraceText(trace.meta, trace.chunks), text);

  const dir = await tempDir('fmt');
  await writeTrace(join(dir, 'c.s2t'), trace.meta, trace.chunks);
  await writeTrace(join(dir, 'c.csv'), (await readTrace(join(dir, 'c.s2t'))).meta, (await readTrace(join(dir, 'c.s2t'))).chunks);
  const again = await readTrace(join(dir, 'c.csv'), 2);
  assert.equal(formatTraceText(again.meta, again.chunks), text);
});

test('openTrace streams: the metadata first, then one chunk at a time with consecutive firstRow', async () => {
  const dir = await tempDir('fmt');
  const meta = { comments: ['# s2bench trace v1', '# arch: arm64'], fields: { arch: 'arm64' } };
  for (const name of ['s.csv', 's.s2t']) {
    const path = join(dir, name);
    const b = new TraceBuilder(100);
    for (let i = 0; i < 1050; i++) b.push({ op: i % 2 ? 'write' : 'read', vcpu: i % 4, gpa: BigInt(i) << 12n });
    await writeTrace(path, meta, b.finish());
    const trace = await openTrace(path, 100);
    assert.equal(trace.meta.fields['arch'], 'arm64');
    const seen: Array<[number, number]> = [];
    let last = 0n;
    for await (const chunk of trace.chunks()) {
      seen.push([chunk.firstRow, chunk.length]);
      last = u64(chunk.gpaHi, chunk.gpaLo, chunk.length - 1);
    }
    assert.equal(seen.length, 11, name);
    assert.deepEqual(seen[10], [1000, 50]);
    assert.ok(seen.every(([first], k) => first === k * 100));
    assert.equal(last, 1049n << 12n);
  }
});

test('a rejected row leaves nothing behind: the next row in its place reads absent fields as 0', () => {
  const builder = new TraceBuilder(4);
  assert.throws(() => builder.push({ op: 'write', vcpu: 7, gpa: 0x5000n, flags: 'private|bogus' }, 3), /line 3, field flags: unknown flags name 'bogus'/);
  builder.push({ op: 'read', gpa: 0x1000n }, 4);
  const [chunk] = builder.finish();
  assert.equal(chunk!.length, 1);
  assert.deepEqual(rowAt(chunk!, 0), { op: 'read', gpa: 0x1000n });
  assert.deepEqual([chunk!.vcpu[0], chunk!.flagsLo[0], chunk!.line[0]], [0, 0, 4]);
});

test('quoted cells (a spreadsheet export) go through csv-parse and mean the same', async () => {
  const trace = await parseTraceText(`${HEAD}"read","2","0x1000",,,"private|nisv",,,,,"ok"\nmemslot,,0,0x1000,1,"log,ro",0x7f0000000000,,,,\n`, 'q.csv').catch((err: Error) => err);
  // The second row's flags cell holds a comma inside quotes: one cell, and `log,ro` is not a flag name.
  assert.ok(trace instanceof Error);
  assert.match(trace.message, /q\.csv: line 4, field flags: unknown flags name 'log,ro' for op memslot/);
  const ok = await parseTraceText(`${HEAD}"read","2","0x1000",,,"private|nisv",,,,,"ok"\n`);
  assert.deepEqual(rowAt(ok.chunks[0]!, 0), { op: 'read', vcpu: 2, gpa: 0x1000n, flags: 3n, ret: 'ok' });
});

test('the portable CRC32 (for Node 20 before 20.15) agrees with zlib, also when continued', () => {
  const data = new TextEncoder().encode('123456789');
  assert.equal(crc32Portable(data), 0xcbf43926); // the standard CRC-32 check value
  assert.equal(crc32(data), 0xcbf43926);
  assert.equal(crc32Portable(data.subarray(4), crc32Portable(data.subarray(0, 4))), 0xcbf43926);
  assert.equal(crc32Portable(new Uint8Array(0)), 0);
});

test('ret accepts 0x hex like every other number field, and prints back as written through .s2t', async () => {
  const text = `${HEAD}memslot,,0,0x1000,0,,0x7f0000000000,,,,0x0\ndirty_get,,,,0,,,,,,0x1F\n`;
  const trace = await parseTraceText(text, 'hex.csv');
  const r = rows(trace.chunks);
  assert.equal(r[0]!.ret, 0);
  assert.equal(r[1]!.ret, 31);
  assert.equal(formatTraceText(trace.meta, trace.chunks), text);
  const dir = await tempDir('ret-hex');
  await writeTrace(join(dir, 'hex.s2t'), trace.meta, trace.chunks);
  const back = await readTrace(join(dir, 'hex.s2t'));
  assert.equal(formatTraceText(back.meta, back.chunks), text);
  const bad = await parseTraceText(`${HEAD}dirty_get,,,,0,,,,,,0xZ\n`, 'bad.csv').catch((err: Error) => err);
  assert.ok(bad instanceof Error);
  assert.match(bad.message, /bad\.csv: line 3, field ret: '0xZ' is not a valid ret \(expected -ERRNO \(e\.g\. -EINVAL\), an integer or 0x hex\)/);
});
