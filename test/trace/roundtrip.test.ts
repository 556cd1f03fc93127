import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TraceBuilder } from '../../src/trace/builder.js';
import { u64 } from '../../src/trace/columns.js';
import { formatTraceText, parseTraceText, readTrace, writeTrace } from '../../src/trace/io.js';
import { rowAt } from '../../src/trace/row.js';
import { FIXTURES_DIR } from '../helpers/paths.js';
import { tempDir } from '../helpers/temp.js';

const ORACLE = join(FIXTURES_DIR, 'kvm-oracle');

test('every kvm-oracle fixture converts CSV -> s2t -> CSV byte-identically', async () => {
  const dir = await tempDir('rt');
  const files = (await readdir(ORACLE)).filter((f) => f.endsWith('.csv'));
  assert.ok(files.length >= 13);
  for (const f of files) {
    const text = await readFile(join(ORACLE, f), 'utf8');
    const csv = await readTrace(join(ORACLE, f));
    const s2t = join(dir, f.replace('.csv', '.s2t'));
    await writeTrace(s2t, csv.meta, csv.chunks);
    const back = join(dir, f);
    const binary = await readTrace(s2t);
    await writeTrace(back, binary.meta, binary.chunks);
    assert.equal(await readFile(back, 'utf8'), text, f);
  }
});

test('64-bit values stay exact on every path, up to 2^64-1', async () => {
  const text = [
    '# s2bench trace v1',
    'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret',
    'memslot,,0xfffffffffffff000,0x1000,1,,0xffff800000000000,,18446744073709551615,,-EINVAL',
    'gmem_create,,,0x40000000,,9223372036854775808,,6,,,-EINVAL',
    '',
  ].join('\n');
  const trace = await parseTraceText(text);
  const chunk = trace.chunks[0]!;
  assert.equal(u64(chunk.gpaHi, chunk.gpaLo, 0), 0xfffffffffffff000n);
  assert.equal(u64(chunk.hvaHi, chunk.hvaLo, 0), 0xffff800000000000n);
  assert.equal(u64(chunk.offsetHi, chunk.offsetLo, 0), 18446744073709551615n);
  assert.equal(u64(chunk.flagsHi, chunk.flagsLo, 1), 1n << 63n);
  assert.equal(chunk.ret[0], -22);
  assert.equal(formatTraceText(trace.meta, trace.chunks), text);
});

test('symbolic flags, outcomes and non-canonical spellings render back as written', async () => {
  const text = [
    '# s2bench trace v1',
    '# arch: x86_64',
    'op,vcpu,gpa,size,slot,flags,hva,fd,offset,attrs,ret',
    'memslot,,0,0x200000,4,gmem|log,0x7f0000800000,1,0,,-EINVAL',
    'memslot,,0x00100000,0X1000,5,0x10,0x7f0000000000,,,,-22',
    '# a comment between rows',
    'read,1,0x1000,,,private|nisv,,,,,memfault',
    'attrs,,0x1000,0x1000,,,,,,private,0',
    'iotlb_update,,0x1000,0x1000,0,rw,0x7f0000000000,,,,0',
    'expect,,,,,faults.fixed,,,,,512',
    '# the end',
    '',
  ].join('\n');
  const trace = await parseTraceText(text);
  assert.equal(trace.meta.fields['arch'], 'x86_64');
  assert.equal(formatTraceText(trace.meta, trace.chunks), text);
  const rows = trace.chunks.flatMap((c) => Array.from({ length: c.length }, (_, i) => rowAt(c, i)));
  assert.deepEqual(rows[0], { op: 'memslot', gpa: 0n, size: 0x200000n, slot: 4, flags: 5n, hva: 0x7f0000800000n, fd: 1, offset: 0n, ret: '-EINVAL' });
  assert.equal(rows[2]!.ret, 'memfault');
  assert.equal(rows[2]!.flags, 3n);
  assert.equal(rows[5]!.flags, 'faults.fixed');
});

test('chunks split at the requested size and rows keep their order and line numbers', async () => {
  const builder = new TraceBuilder(3);
  for (let i = 0; i < 8; i++) builder.push({ op: 'read', vcpu: 0, gpa: BigInt(i) << 12n, ret: 'ok' });
  const chunks = builder.finish();
  assert.deepEqual(chunks.map((c) => [c.firstRow, c.length]), [[0, 3], [3, 3], [6, 2]]);
  assert.equal(rowAt(chunks[2]!, 1).gpa, 7n << 12n);
  assert.equal(chunks[2]!.line[1], 8);
  // Each chunk owns its buffer, so it can be transferred to a worker alone.
  assert.notEqual(chunks[0]!.buffer, chunks[1]!.buffer);
});
